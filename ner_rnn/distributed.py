"""Data-parallel training and tagging under torchrun (DistributedDataParallel).

`torchrun --nproc_per_node N -m ner_rnn train ...` starts N processes with RANK,
WORLD_SIZE and LOCAL_RANK set; each joins one process group (gloo on CPU, nccl on GPU).
Without those variables everything runs in one process and this module does nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ner_rnn.errors import NerError, excerpt


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


ALONE = World()  # one process, no torchrun


def join(device: torch.device) -> tuple[World, torch.device]:
    """Join torchrun's process group if launched by it; on GPU, take this rank's card."""
    size = environment_int("WORLD_SIZE", 1, minimum=1)
    if size == 1:
        return World(), device
    if device.type == "cuda":
        device = torch.device("cuda", environment_int("LOCAL_RANK", 0))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size()), device


def environment_int(name: str, default: int, minimum: int = 0) -> int:
    """A number torchrun sets (WORLD_SIZE, LOCAL_RANK, ...); anything else there is a
    one-line error."""
    text = os.environ.get(name, str(default))
    if not text.strip().isdecimal() or not text.isascii() or int(text) < minimum:
        raise NerError(f"{name}: expected an integer >= {minimum}, got {excerpt(text)}")
    return int(text)


def leave(world: World) -> None:
    """Leave the process group once every rank is done with it: the barrier keeps a rank
    from closing its connections while another still uses them (a rank whose peer hangs
    up mid-operation is aborted by gloo)."""
    if world.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def shard(batches: list, world: World) -> list:
    """This rank's share of the batches. Every rank gets the same number of steps (the
    gradient all-reduce needs it): the list wraps around, so no sentence is left out."""
    if not world.active:
        return batches
    steps = -(-len(batches) // world.size)  # ceil
    padded = [batches[i % len(batches)] for i in range(steps * world.size)]
    return padded[world.rank :: world.size]


def broadcast(value, world: World):
    """Rank 0's value, on every rank."""
    if not world.active:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather(value, world: World) -> list:
    """Every rank's value, in rank order, on every rank."""
    if not world.active:
        return [value]
    boxes = [None] * world.size
    dist.all_gather_object(boxes, value)
    return boxes


def barrier(world: World) -> None:
    if world.active:
        dist.barrier()
