"""Recurrent encoders (Elman RNN, GRU, LSTM) that padding can never reach.

Each layer runs one unidirectional recurrent module per direction on padded input. The
forward direction reads left to right, so padding after a sentence cannot change its
outputs. The backward direction reads each sentence reversed *within its own length*
(padding stays at the end), and its outputs are reversed back. This is exactly what
packed sequences compute, without the cost of packing.
"""

from __future__ import annotations

import torch
from torch import nn

from ner_rnn.config import EncoderConfig


def reverse_within_lengths(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """Index that reverses each row's first `length` steps and leaves padding in place.

    lengths: long (batch,). Returns long (batch, width); applying it twice is the identity.
    """
    steps = torch.arange(width, device=lengths.device)  # (width,)
    reversed_steps = lengths[:, None] - 1 - steps[None, :]  # (batch, width)
    return torch.where(reversed_steps >= 0, reversed_steps, steps[None, :])


def gather_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x: (batch, time, features); index: long (batch, time) -> x[b, index[b, t], :]."""
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def _torch_layer(config: EncoderConfig, input_size: int) -> nn.Module:
    """One single-direction, single-layer fused torch module."""
    if config.type == "lstm":
        return nn.LSTM(input_size, config.hidden_size, batch_first=True)
    if config.type == "gru":
        return nn.GRU(input_size, config.hidden_size, batch_first=True)
    return nn.RNN(input_size, config.hidden_size, nonlinearity=config.activation,
                  batch_first=True)


class RecurrentEncoder(nn.Module):
    """A stack of (bi)directional recurrent layers with dropout between layers."""

    def __init__(self, config: EncoderConfig, input_size: int):
        super().__init__()
        directions = 2 if config.bidirectional else 1
        self.output_size = config.hidden_size * directions
        self.between_layers = nn.Dropout(config.dropout)
        # layers[i][0] reads left to right, layers[i][1] right to left
        self.layers = nn.ModuleList(
            nn.ModuleList(
                _torch_layer(config, input_size if i == 0 else self.output_size)
                for _ in range(directions)
            )
            for i in range(config.num_layers)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: float (batch, time, input); mask: bool (batch, time); lengths: long (batch,).

        Returns float (batch, time, output_size), zero on padding.
        """
        backward_index = None
        for depth, directions in enumerate(self.layers):
            if depth > 0:
                x = self.between_layers(x)
            outputs = [directions[0](x)[0]]  # (batch, time, hidden)
            if len(directions) == 2:
                if backward_index is None:
                    backward_index = reverse_within_lengths(lengths, x.size(1))  # (batch, time)
                reversed_out = directions[1](gather_steps(x, backward_index))[0]
                outputs.append(gather_steps(reversed_out, backward_index))  # (batch, time, hidden)
            x = torch.cat(outputs, dim=-1)  # (batch, time, output_size)
        return x * mask.unsqueeze(-1)
