"""Process-wide settings: device choice, CPU threads and seeding."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from ner_rnn.distributed import environment_int
from ner_rnn.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """`cpu`, `cuda`, or `auto` (cuda when available, else cpu)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: cuda requested but no CUDA device is available; use cpu or auto")
    return torch.device(name)


def tagging_workers(device: torch.device) -> int:
    """How many worker processes `tag` starts by default (see `serve.pipeline`).

    The cores this process may use (shared among the torchrun ranks of this machine) go
    to the model first: on a GPU one core drives it and the others, up to 8, tokenise
    and format; on the CPU the model's work per sentence is about four times the rest,
    so a quarter of the cores go to workers. With fewer than four, none: on two idle
    cores one worker beside a one-thread model was 15-25% slower than one process
    with two threads.
    """
    cores = _cores()
    if device.type == "cuda":
        return min(cores - 1, 8)
    return min(cores // 4, 8)


def leave_cores_to(workers: int) -> None:
    """Give torch's threads only the cores `workers` processes leave, so that the model
    and the workers do not fight over cores (spinning threads made a busy 2-core
    machine up to 5 times slower)."""
    if workers:
        torch.set_num_threads(max(1, min(torch.get_num_threads(), _cores() - workers)))


def _cores() -> int:
    """Cores for this process: those it may run on, shared among this machine's ranks."""
    return max(1, _usable_cores() // environment_int("LOCAL_WORLD_SIZE", 1, minimum=1))


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; returns the generator that shuffles batches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
