import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ner_rnn.config import EncoderConfig, TrainConfig, load_config
from ner_rnn.data.batching import collate
from ner_rnn.data.encoding import Example
from ner_rnn.model import network as network_module
from ner_rnn.model.encoder import RecurrentEncoder
from ner_rnn.model.network import TaggerNetwork
from ner_rnn.model.steps import reverse_within_lengths
from ner_rnn.train.optim import Optimizer

# every encoder x head x character-feature combination (casing off without characters)
GRID = [(kind, 1, True, head, chars) for kind in ("rnn", "gru", "lstm")
        for head in ("softmax", "crf") for chars in (None, "cnn", "lstm")]
# depth and direction, on one head and character encoder
GRID += [(kind, layers, bidirectional, "softmax", "cnn") for kind in ("rnn", "gru", "lstm")
         for layers, bidirectional in ((2, True), (1, False), (2, False))]
WORDS = [[2, 3, 4, 5, 6], [7, 2], [3, 8, 3]]
TAGS = [[0, 1, 2, 0, 1], [0, 1], [2, 0, 2]]  # B-X I-X O, well-formed IOB2
CHARS = [[[3, 4, 5], [2, 0, 0], [6, 6, 0], [2, 3, 0], [4, 0, 0]], [[5, 5], [2, 0]],
         [[7], [7], [7]]]
SENTENCES = [Example(np.array(w), np.array([3] * len(w)), np.array(c), np.array(t))
             for w, c, t in zip(WORDS, CHARS, TAGS)]


def network(kind="lstm", layers=1, bidirectional=True, head="softmax", chars="cnn"
            ) -> TaggerNetwork:
    features = ["model.embeddings.char.type=null"]
    if chars is not None:
        features = [f"model.embeddings.char.type={chars}", "model.embeddings.char.dim=4",
                    "model.embeddings.char.filters=3", "model.embeddings.char.hidden_size=2",
                    "model.embeddings.casing_dim=2"]
    config = load_config(None, [f"model.encoder.type={kind}", f"model.encoder.num_layers={layers}",
                                f"model.head.type={head}",
                                f"model.encoder.bidirectional={bidirectional}",
                                "model.encoder.hidden_size=6", "model.embeddings.word.dim=5",
                                "model.encoder.dropout=0.2", "model.scheme=iob2",
                                "model.dropout=0.1", "model.embeddings.dropout=0.1", *features])
    return TaggerNetwork(config.model, num_words=10, num_chars=8, labels=["B-X", "I-X", "O"])


def test_reverse_within_lengths_keeps_padding_in_place():
    index = reverse_within_lengths(torch.tensor([3, 1]), 4)
    assert index.tolist() == [2, 1, 0, 3, 4, 5, 6, 7]  # rows of the flattened (2 * 4) steps


@pytest.mark.parametrize("kind, layers, bidirectional, head, chars", GRID)
def test_shapes_and_every_parameter_gets_a_gradient(kind, layers, bidirectional, head, chars):
    net = network(kind, layers, bidirectional, head, chars)
    batch = collate(SENTENCES, [[0], [1], [2]])
    features = net.features(batch)
    assert features.shape == (3, 5, 6 * (2 if bidirectional else 1))
    assert torch.all(features[1, 2:] == 0)  # padding positions are zero
    net.loss(batch).backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kind, layers, bidirectional, head, chars", GRID)
def test_padding_never_changes_a_sentence(kind, layers, bidirectional, head, chars):
    net = network(kind, layers, bidirectional, head, chars).eval()
    together = net.features(collate(SENTENCES, [[0], [1], [2]]))
    for row, index in enumerate([0, 1, 2]):
        alone = net.features(collate(SENTENCES, [[index]]))
        length = len(WORDS[index])
        torch.testing.assert_close(together[row, :length], alone[0], atol=1e-6, rtol=0)
    assert net.decode(collate(SENTENCES, [[1], [0]])) == [
        net.decode(collate(SENTENCES, [[1]]))[0], net.decode(collate(SENTENCES, [[0]]))[0]]


@pytest.mark.parametrize("kind, layers, bidirectional, head, chars", GRID[:18])
def test_learns_a_tiny_batch(kind, layers, bidirectional, head, chars):
    net = network(kind, layers, bidirectional, head, chars)
    optimizer = Optimizer(net, TrainConfig(lr=0.05))
    batch = collate(SENTENCES, [[0], [1], [2]])
    first = net.eval().loss(batch).item()
    net.train()
    for _ in range(40):
        optimizer.zero_grad()
        net.loss(batch).backward()
        optimizer.step()
    net.eval()
    assert net.loss(batch).item() < first / 2
    assert net.decode(batch) == TAGS  # it now tags its training batch right


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_encoder_equals_packed_bidirectional_torch_module(kind):
    config = EncoderConfig(type=kind, hidden_size=4, num_layers=2, bidirectional=True)
    encoder = RecurrentEncoder(config, input_size=3).eval()
    reference = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind](
        3, 4, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for layer, directions in enumerate(encoder.stack.layers):
            for direction, module in enumerate(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(reference, name + suffix).copy_(getattr(module.fused, name + "_l0"))
    x = torch.randn(3, 6, 3)
    lengths = torch.tensor([6, 2, 4])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = pad_packed_sequence(reference(packed)[0], batch_first=True)
    torch.testing.assert_close(encoder(x, lengths), expected, atol=1e-6, rtol=0)


def test_mixed_precision_trains_with_float32_heads():
    config = load_config(None, ["model.head.type=crf", "model.embeddings.word.dim=5",
                                "model.encoder.hidden_size=6"])
    net = TaggerNetwork(config.model, num_words=10, num_chars=8, labels=["B-X", "I-X", "O"],
                        mixed_precision=True)
    batch = collate(SENTENCES, [[0], [1], [2]])
    assert net.features(batch).dtype == torch.float32
    loss = net.loss(batch)
    loss.backward()
    assert torch.isfinite(loss) and net.encoder.stack.layers[0][0].fused.weight_ih_l0.grad is not None


def test_mixed_precision_falls_back_to_float32_where_the_cpu_lacks_bfloat16(monkeypatch):
    config = load_config(None, ["model.embeddings.word.dim=5", "model.encoder.hidden_size=6"])
    plain = TaggerNetwork(config.model, num_words=10, num_chars=8, labels=["B-X", "I-X", "O"])
    mixed = TaggerNetwork(config.model, num_words=10, num_chars=8, labels=["B-X", "I-X", "O"],
                          mixed_precision=True)
    mixed.load_state_dict(plain.state_dict())
    batch = collate(SENTENCES, [[0], [1], [2]])
    probe = network_module.bfloat16_works.__wrapped__
    monkeypatch.setattr(network_module, "bfloat16_works", lambda device_type: False)
    assert torch.equal(mixed.eval().encode(batch), plain.eval().encode(batch))
    monkeypatch.setattr(network_module, "bfloat16_works", lambda device_type: True)
    if probe("cpu"):  # this CPU has the kernels
        assert not torch.equal(mixed.encode(batch), plain.encode(batch))


def test_document_context_windows_give_each_sentence_its_tokens_from_the_joined_sequence():
    net = network("lstm", 2, True, "crf", "cnn").eval()
    joined = Example(np.concatenate([SENTENCES[0].words, SENTENCES[1].words]),
                     np.array([3] * 7), np.zeros((7, 3), dtype=np.int64), None)
    joined.chars[:5, :3] = SENTENCES[0].chars
    joined.chars[5:, :2] = SENTENCES[1].chars
    reference = net.features(collate([joined], [[0]]))[0]  # (7, out)
    windowed = net.features(collate(SENTENCES, [[0, 1], [2]]))  # (3 sentences, 5, out)
    torch.testing.assert_close(windowed[0, :5], reference[:5], atol=1e-6, rtol=0)
    torch.testing.assert_close(windowed[1, :2], reference[5:], atol=1e-6, rtol=0)
    assert windowed[1, 2:].abs().sum() == 0  # padding stays zero
    alone = net.features(collate(SENTENCES, [[0]]))[0]
    assert not torch.allclose(alone, reference[:5])  # the next sentence is context
    torch.testing.assert_close(windowed[2, :3], net.features(collate(SENTENCES, [[2]]))[0],
                               atol=1e-6, rtol=0)
    batch = collate(SENTENCES, [[0, 1], [2]])
    net.train()
    net.loss(batch).backward()  # the loss runs on sentences
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("chars", ["cnn", "lstm"])
def test_each_spelling_is_encoded_once_and_reaches_every_token_spelt_so(chars):
    net = network(chars=chars).eval()
    rows = collate(SENTENCES, [[0, 1], [2]]).rows  # [2, 0, 0] twice, [7] three times
    assert len(rows.chars) - 1 == 7 < int(rows.mask.sum()) == 10  # spellings, tokens
    width = net.embedder.chars.output_size
    with torch.no_grad():
        found = net.embedder(rows)[..., 5 : 5 + width]  # (rows, row time, char features)
        alone = net.embedder.chars(rows.chars[rows.spelling[rows.mask]])  # token by token
    torch.testing.assert_close(found[rows.mask], alone)
    assert torch.all(found[~rows.mask] == 0)  # padding: zero
