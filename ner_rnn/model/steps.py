"""Index helpers over padded (batch, time, ...) sequences: masks and in-length reversal."""

from __future__ import annotations

import torch


def step_mask(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor | None:
    """bool (batch, time, 1), True on real steps; None when every step is real."""
    if lengths is None:
        return None
    steps = torch.arange(x.size(1), device=x.device)
    return (steps[None, :] < lengths.to(x.device)[:, None]).unsqueeze(-1)


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
