"""Recurrent encoders (Elman RNN, GRU, LSTM) that padding can never reach.

Each layer runs one unidirectional layer per direction on padded input (see
`cells.Stack`). The forward direction reads left to right, so padding after a sentence
cannot change its outputs; the backward direction reads each sentence reversed within
its own length. This is exactly what packed sequences compute, without the cost of
packing. `implementation` picks torch's fused kernels or the lecture's cells
(`ner_rnn.model.cells`); `model.convert` maps weights between the two.
"""

from __future__ import annotations

import torch
from torch import nn

from ner_rnn.config import EncoderConfig
from ner_rnn.model.cells import GRU, LSTM, SimpleRNN, Stack
from ner_rnn.model.dropout import SequenceDropout
from ner_rnn.model.steps import step_mask


class FusedLayer(nn.Module):
    """One direction of one layer as torch's fused module (`fused`), called like a cell.

    It reports no final state: on padded input torch's state would run past the end.
    Its outputs on padded steps are whatever torch computes there: no later step of a
    sentence ever reads them (a forward layer reads them only after the sentence, a
    backward one reads each sentence reversed within its length), and
    `RecurrentEncoder` zeroes them once at the end.
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, activation: str):
        super().__init__()
        if kind == "lstm":
            self.fused = nn.LSTM(input_size, hidden_size, batch_first=True)
        elif kind == "gru":
            self.fused = nn.GRU(input_size, hidden_size, batch_first=True)
        else:
            self.fused = nn.RNN(input_size, hidden_size, nonlinearity=activation,
                                batch_first=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        return self.fused(x)[0], None  # (batch, time, hidden)


def layer_factory(config: EncoderConfig):
    """A function (input_size, hidden_size) -> one direction of one layer."""
    kind = config.type
    if config.implementation == "torch":
        return lambda i, h: FusedLayer(kind, i, h, config.activation)
    if kind == "lstm":
        return LSTM
    if kind == "gru":
        return GRU
    return lambda i, h: SimpleRNN(i, h, activation=config.activation)


class RecurrentEncoder(nn.Module):
    """A stack of (bi)directional recurrent layers with dropout between layers."""

    def __init__(self, config: EncoderConfig, input_size: int, locked_dropout: bool = False):
        super().__init__()
        self.output_size = config.hidden_size * (2 if config.bidirectional else 1)
        self.stack = Stack(layer_factory(config), input_size, config.hidden_size,
                           config.num_layers, config.bidirectional,
                           SequenceDropout(config.dropout, locked_dropout))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: float (batch, time, input); lengths: long (batch,) real steps per row.

        Returns float (batch, time, output_size), zero on padding.
        """
        return self.stack(x, lengths)[0] * step_mask(x, lengths)  # (batch, time, out)
