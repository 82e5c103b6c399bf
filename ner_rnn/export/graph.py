"""The whole tagger as one traceable module: padded id tensors in, best tag ids out.

Decoding runs inside the graph: Viterbi's max-plus recursion and its back-tracking are
`scan`s over a dynamic time axis (ONNX `Scan`), so a client needs no decoder of its own.
Parts of the network whose torch code cannot be traced over dynamic shapes, or that the
ONNX exporter writes as slow loops, are swapped for equivalents computing the same
function with the same weights (see `exportable`). torch's LSTM and GRU stay (ONNX
`LSTM` and `GRU` nodes; `export.files.tracing` keeps their time axis dynamic).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch._higher_order_ops.scan import scan

from ner_rnn.data.batching import Batch, Rows, Sentences
from ner_rnn.errors import ConfigError
from ner_rnn.model.decoding import Potentials
from ner_rnn.model.embeddings import CharCNN, CharLSTM
from ner_rnn.model.encoder import FusedLayer
from ner_rnn.model.heads import SoftmaxHead
from ner_rnn.model.steps import gather_steps, reverse_within_lengths

INPUTS = ("words", "casing", "chars", "spelling", "lengths", "positions", "sentence_lengths")


class TaggerGraph(nn.Module):
    """forward(words, casing, [chars, spelling,] lengths, positions, sentence_lengths)
    -> tags long (batch, time), 0 on padding; the inputs are `Batch`'s tensors (see
    `ner_rnn.data.batching`)."""

    def __init__(self, network: nn.Module, chars: bool):
        super().__init__()
        self.network, self.chars = network, chars
        head = network.head
        self.viterbi = not isinstance(head, SoftmaxHead) or head.constrained

    def input_names(self) -> list[str]:
        return [name for name in INPUTS if self.chars or name not in ("chars", "spelling")]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        named = dict(zip(self.input_names(), inputs))
        words, lengths = named["words"], named["lengths"]
        positions, sentence_lengths = named["positions"], named["sentence_lengths"]
        row_mask = _mask(lengths, words.size(1))  # (rows, row time)
        mask = _mask(sentence_lengths, positions.size(1))  # (batch, time)
        rows = Rows(words, named["casing"], named.get("chars"), named.get("spelling"),
                    row_mask, lengths)
        batch = Batch(rows, Sentences(mask, sentence_lengths, None, positions), [])
        p = self.network.potentials(batch)
        if not self.viterbi:
            return p.emissions.argmax(dim=-1) * mask  # (batch, time)
        return viterbi_scan(p, mask)


def _mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def viterbi_scan(p: Potentials, mask: torch.Tensor) -> torch.Tensor:
    """The best tag sequence per sentence, long (batch, time), 0 on padding: the same
    path as `decoding.viterbi` (ties to the lowest tag), as two scans.

    The forward scan runs over time + 1 steps (one idle step first: a scan must have
    two steps or more to trace over a dynamic length); a step that is no move (the
    idle one, step 0, padding) keeps the score and points each tag to itself, so the
    backward scan carries each sentence's last tag through its padding."""
    emissions = p.emissions  # (batch, time, tags)
    batch, time, tags = emissions.shape
    moves = mask & (torch.arange(time, device=mask.device) > 0)  # (batch, time)
    moves = torch.cat([mask.new_zeros(batch, 1), moves], dim=1)  # (batch, time + 1)
    steps = torch.cat([emissions[:, :1], emissions], dim=1)  # (batch, time + 1, tags)
    stay = torch.arange(tags, device=mask.device).expand(batch, tags)  # (batch, tags)
    transitions = p.transitions

    def forward_step(score, step):
        emission, moved = step  # (batch, tags), (batch,)
        best, previous = (score.unsqueeze(2) + transitions).max(dim=1)  # (batch, to)
        moved = moved.unsqueeze(1)
        return (torch.where(moved, best + emission, score),
                torch.where(moved, previous, stay))

    score, pointers = scan(forward_step, p.start + emissions[:, 0],
                           (steps.transpose(0, 1), moves.transpose(0, 1)))
    last = (score + p.end).argmax(dim=1)  # (batch,)

    def backward_step(tag, pointer):
        return pointer.gather(1, tag.unsqueeze(1)).squeeze(1), tag.clone()

    _, path = scan(backward_step, last, pointers, reverse=True)  # (time + 1, batch)
    return path[1:].transpose(0, 1) * mask  # (batch, time)


class FullWidthCharLSTM(nn.Module):
    """`CharLSTM`'s function over all words at once at full width (its length groups
    are data-dependent shapes, which do not trace)."""

    def __init__(self, original: CharLSTM):
        super().__init__()
        self.original, self.output_size = original, original.output_size

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: long (words, chars) -> float (words, 2 * hidden)."""
        lstm = self.original
        lengths = (chars != 0).sum(dim=1)  # (words,)
        x = lstm.embedding(chars)  # (words, chars, dim)
        last = (lengths - 1).clamp(min=0).view(-1, 1, 1)
        forward = lstm.forward_lstm(x)[0]  # (words, chars, hidden)
        backward = lstm.backward_lstm(gather_steps(x, reverse_within_lengths(lengths,
                                                                             chars.size(1))))[0]
        index = last.expand(-1, 1, forward.size(2))
        return torch.cat([forward.gather(1, index).squeeze(1),
                          backward.gather(1, index).squeeze(1)], dim=1)


class GatheredCharCNN(nn.Module):
    """`CharCNN`'s function with each window's sum of table rows as a gather and a sum:
    the ONNX exporter writes its `embedding_bag` as a Loop over every window (a hundred
    times slower in onnxruntime than the rest of the graph)."""

    def __init__(self, original: CharCNN):
        super().__init__()
        self.original, self.output_size = original, original.output_size

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: long (words, chars) -> float (words, filters)."""
        table, windows = self.original.lookup(chars)
        # one gather a window offset (width is fixed in the graph): no (chars, words,
        # width, filters) intermediate
        sums = F.embedding(windows[..., 0], table)  # (chars, words, filters)
        for offset in range(1, self.original.width):
            sums = sums + F.embedding(windows[..., offset], table)
        return sums.amax(dim=0) + self.original.window.bias  # (words, filters)


class ScanRNN(nn.Module):
    """torch's `nn.RNN` (one layer, one direction, batch first) as a scan: its fused op
    traces with the time axis fixed."""

    def __init__(self, original: nn.RNN):
        super().__init__()
        self.original = original
        self.activation = torch.tanh if original.nonlinearity == "tanh" else torch.relu

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        rnn = self.original
        projected = x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + rnn.bias_hh_l0  # (batch, time, h)
        recurrent = rnn.weight_hh_l0

        def step(h, projected_t):
            h = self.activation(projected_t + h @ recurrent.T)  # (batch, hidden)
            return h, h.clone()

        initial = x.new_zeros(x.size(0), rnn.hidden_size)  # (batch, hidden)
        outputs = scan(step, initial, projected.transpose(0, 1))[1]  # (time, batch, hidden)
        return outputs.transpose(0, 1), None


def exportable(network: nn.Module, implementation: str) -> nn.Module:
    """A copy of `network` (eval mode, float32, no gradients) in which what does not
    trace, or exports as a slow loop, is replaced; the lecture's native cells are
    refused. `network` is a TaggerNetwork or an EnsembleNetwork of them."""
    if implementation != "torch":
        raise ConfigError(f"model.encoder.implementation: {implementation!r} cells cannot "
                          "be exported (their loop over time does not trace); only 'torch'")
    network = copy.deepcopy(network).eval().requires_grad_(False)
    for module in list(network.modules()):
        if hasattr(module, "mixed_precision"):
            module.mixed_precision = False  # the graph runs in float32
        if isinstance(getattr(module, "chars", None), CharLSTM):
            module.chars = FullWidthCharLSTM(module.chars)
        if isinstance(getattr(module, "chars", None), CharCNN):
            module.chars = GatheredCharCNN(module.chars)
        if isinstance(module, FusedLayer) and isinstance(module.fused, nn.RNN):
            module.fused = ScanRNN(module.fused)
    return network

