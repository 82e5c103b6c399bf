"""The lecture's cells: its two worked examples, and equality with torch's modules."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ner_rnn.config import load_config
from ner_rnn.lecture_examples import (
    LSTM_INPUTS,
    LSTM_OUTPUTS,
    RNN_INPUTS,
    RNN_OUTPUT_WEIGHTS,
    worked_lstm,
    worked_rnn,
)
from ner_rnn.model.cells import GRU, LSTM, SimpleRNN, Stack, cell_to_torch, torch_to_cell
from ner_rnn.model.convert import convert_encoder
from ner_rnn.model.network import TaggerNetwork
from tests.test_model import SENTENCES, collate


def test_rnn_worked_example():
    V = RNN_OUTPUT_WEIGHTS
    states, last = worked_rnn()(torch.tensor([RNN_INPUTS]))
    assert states[0].tolist() == [[2, 2], [6, 6], [16, 16]]
    assert (states @ V.T)[0].tolist() == [[4, 4], [12, 12], [32, 32]]
    assert last[0].tolist() == [16, 16]
    reordered, _ = worked_rnn()(torch.tensor([[[1.0, 1], [2, 2], [1, 1]]]))
    assert (reordered @ V.T)[0, -1].tolist() == [36, 36]  # order matters


def test_lstm_memory_cell_worked_example():
    outputs, (h, c) = worked_lstm()(torch.tensor([LSTM_INPUTS]))
    expected = torch.tensor([0.0, 0, 0, 0, 0, 7, 0, 0, 6])
    assert expected.tolist() == LSTM_OUTPUTS
    torch.testing.assert_close(outputs[0, :, 0], expected, atol=0.01, rtol=0)
    assert abs(c.item() - 6) < 0.01 and abs(h.item() - 6) < 0.01


def test_parameter_names_follow_the_notes():
    assert {n for n, _ in SimpleRNN(3, 2).named_parameters()} == {"U", "W", "b"}
    assert {n for n, _ in SimpleRNN(3, 2, bias=False).named_parameters()} == {"U", "W"}
    lstm = dict(LSTM(3, 2).named_parameters())
    assert set(lstm) == {"W_z", "W_i", "W_f", "W_o", "b_z", "b_i", "b_f", "b_o"}
    assert lstm["W_z"].shape == (2, 5) and lstm["b_o"].shape == (2,)
    with pytest.raises(ValueError, match="unknown activation 'cube'"):
        SimpleRNN(1, 1, activation="cube")


def test_padded_steps_neither_update_state_nor_leak():
    rnn = SimpleRNN(2, 3)
    x = torch.randn(2, 4, 2)
    outputs, state = rnn(x, lengths=torch.tensor([4, 2]))
    alone, alone_state = rnn(x[1:, :2])
    torch.testing.assert_close(outputs[1, :2], alone[0])
    torch.testing.assert_close(state[1], alone_state[0])
    assert torch.all(outputs[1, 2:] == 0)


def test_a_length_past_the_end_reads_the_whole_row_and_never_another_row():
    """As each layer does (its mask is all True), both directions of a Stack read a row
    whose length exceeds the time steps as the whole row, not the steps of the next."""
    stack = Stack(SimpleRNN, 2, 3, bidirectional=True)
    x = torch.randn(2, 4, 2)
    outputs, state = stack(x, torch.tensor([6, 2]))
    expected, expected_state = stack(x, torch.tensor([4, 2]))
    torch.testing.assert_close(outputs, expected, atol=0, rtol=0)
    torch.testing.assert_close(state, expected_state, atol=0, rtol=0)


def test_initial_state_is_used():
    lstm = worked_lstm()
    h0, c0 = torch.zeros(1, 1), torch.full((1, 1), 5.0)
    outputs, _ = lstm(torch.tensor([[[0.0, 0, 1]]]), state=(h0, c0))
    assert abs(outputs.item() - 5) < 0.01  # reads out the memory it was given


TORCH = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
CELLS = {"rnn": SimpleRNN, "gru": GRU, "lstm": LSTM}


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_stack_equals_torch_with_ragged_lengths_and_gradients(kind):
    reference = TORCH[kind](3, 4, num_layers=2, bidirectional=True, batch_first=True)
    stack = Stack(CELLS[kind], 3, 4, num_layers=2, bidirectional=True)
    with torch.no_grad():
        for layer, directions in enumerate(stack.layers):
            for direction, cell in enumerate(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                weights = {n: getattr(reference, n + suffix) for n in
                           ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
                cell.load_state_dict(torch_to_cell(kind, weights))
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(3, 5, 3)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    packed = pack_padded_sequence(x_ref, lengths, batch_first=True, enforce_sorted=False)
    ref_out, ref_state = reference(packed)
    ref_out = pad_packed_sequence(ref_out, batch_first=True, total_length=5)[0]
    out, state = stack(x_ours, lengths)
    torch.testing.assert_close(out, ref_out, atol=1e-5, rtol=0)
    ref_states, states = (ref_state, state) if kind == "lstm" else ((ref_state,), (state,))
    for ours, theirs in zip(states, ref_states):
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)

    probe = torch.randn_like(out)
    (ref_out * probe).sum().add(sum(s.sum() for s in ref_states)).backward()
    (out * probe).sum().add(sum(s.sum() for s in states)).backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, atol=1e-5, rtol=0)
    for layer, directions in enumerate(stack.layers):
        for direction, cell in enumerate(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            grads = cell_to_torch(kind, {n: p.grad for n, p in cell.named_parameters()})
            for name in ("weight_ih", "weight_hh", "bias_ih"):
                torch.testing.assert_close(grads[name], getattr(reference, name + suffix).grad,
                                           atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_tagger_weights_convert_both_ways(kind):
    def build(implementation):
        config = load_config(None, [f"model.encoder.type={kind}", "model.encoder.num_layers=2",
                                    f"model.encoder.implementation={implementation}",
                                    "model.encoder.hidden_size=6", "model.embeddings.word.dim=5"])
        return TaggerNetwork(config.model, num_words=10, num_chars=8, labels=["B-X", "I-X", "O"]).eval()

    fused, native = build("torch"), build("native")
    native.load_state_dict(convert_encoder(fused.state_dict(), kind, "native"))
    batch = collate(SENTENCES, [[0], [1], [2]])
    torch.testing.assert_close(native.features(batch), fused.features(batch), atol=1e-5, rtol=0)
    again = build("torch")
    again.load_state_dict(convert_encoder(native.state_dict(), kind, "torch"))
    torch.testing.assert_close(again.features(batch), fused.features(batch), atol=1e-5, rtol=0)
    assert native.decode(batch) == fused.decode(batch) == again.decode(batch)


def test_seed_examples_script_prints_the_lecture_numbers():
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "seed_examples.py")],
                          capture_output=True, text=True, check=True)
    assert "S=[16.0, 16.0]  O=[32.0, 32.0]" in done.stdout
    assert "O=[36.0, 36.0]" in done.stdout
    assert [line.split("output y=")[1].strip() for line in done.stdout.splitlines()
            if "output y=" in line] == ["0.00"] * 5 + ["7.00", "0.00", "0.00", "6.00"]
