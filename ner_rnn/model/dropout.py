"""Dropout for (batch, time, features) tensors, standard or locked over time."""

from __future__ import annotations

import torch
from torch import nn


class SequenceDropout(nn.Module):
    """Zeroes features with probability p during training, scaling the rest by 1/(1-p).

    `locked=True` draws one mask per sequence and feature, shared by all its time steps
    (a sequence is a sentence, or a window of sentences with document context; variational
    or "locked" dropout, Gal & Ghahramani 2016; Merity et al. 2018): a
    stronger regulariser for recurrent inputs, and 1/time as many random numbers. The
    mask comes from `torch.rand`, about twice as fast on CPU as `bernoulli_`.
    """

    def __init__(self, p: float, locked: bool = False):
        super().__init__()
        self.p, self.locked = p, locked

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float (batch, time, features) -> same shape."""
        if not self.training or self.p == 0:
            return x
        shape = (x.size(0), 1, x.size(2)) if self.locked else x.shape
        keep = torch.rand(shape, device=x.device, dtype=x.dtype) >= self.p  # (batch, 1|time, f)
        return x * keep * (1.0 / (1.0 - self.p))
