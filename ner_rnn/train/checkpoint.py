"""What `train --resume` needs to continue a run exactly: counters and random states."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Progress:
    """Counters that early stopping and resuming need, saved in `last.pt`."""

    epoch: int = 0  # epochs completed
    best_f1: float = -1.0  # best dev F1 so far (stays -1 without a dev set)
    best_epoch: int = 0
    stale: int = 0  # epochs since the best one
    records: list[dict] = field(default_factory=list)  # one metrics record per epoch


def checkpoint(network: torch.nn.Module, optimizer_state: dict, rng: np.random.Generator,
               progress: Progress) -> dict:
    """Everything `resume` needs, as tensors and plain Python values (no objects)."""
    return {
        "network": network.state_dict(),
        "optimizer": optimizer_state,
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
        "progress": vars(progress),
    }


def restore_random_states(saved: dict) -> np.random.Generator:
    """Set torch's and Python's generators as saved; returns the batch-shuffling one."""
    rng = np.random.default_rng()
    rng.bit_generator.state = saved["numpy_rng"]
    torch.set_rng_state(saved["torch_rng"])
    random.setstate(_as_tuple(saved["python_rng"]))
    return rng


def _as_tuple(value):
    """random.setstate needs tuples where the checkpoint may hold lists."""
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value
