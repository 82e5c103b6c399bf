"""Process-wide settings: device choice, CPU threads and seeding."""

from __future__ import annotations

import random

import numpy as np
import torch

from ner_rnn.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """`cpu`, `cuda`, or `auto` (cuda when available, else cpu)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: cuda requested but no CUDA device is available; use cpu or auto")
    return torch.device(name)


def set_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; returns the generator that shuffles batches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
