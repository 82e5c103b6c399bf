"""Output heads: scores per token and tag, a training loss, and decoding to tag ids."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SoftmaxHead(nn.Module):
    """A linear layer per token with softmax cross-entropy; decoding takes the argmax."""

    def __init__(self, input_size: int, num_tags: int):
        super().__init__()
        self.projection = nn.Linear(input_size, num_tags)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features: float (batch, time, input) -> float (batch, time, num_tags) scores."""
        return self.projection(features)

    def loss(self, features: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over real tokens; padding never enters the loss.

        features: float (batch, time, input); tags: long (batch, time); mask: bool (batch, time).
        """
        scores = self(features[mask])  # (tokens, num_tags): real tokens only
        return F.cross_entropy(scores, tags[mask])

    def decode(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Best tag id per token: long (batch, time); padding positions are 0."""
        return self(features).argmax(dim=-1) * mask  # (batch, time)


def build_head(kind: str, input_size: int, num_tags: int) -> nn.Module:
    """The head named by `model.head.type`."""
    if kind == "softmax":
        return SoftmaxHead(input_size, num_tags)
    raise ValueError(f"unknown head type {kind!r}; expected one of: softmax")
