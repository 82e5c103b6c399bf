"""Length-bucketed batches of padded tensors; no sentence is ever truncated or dropped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Batch:
    """A batch of sentences, padded to the longest one. Padding id is 0 everywhere."""

    words: torch.Tensor  # long (batch, time) word ids
    mask: torch.Tensor  # bool (batch, time), True on real tokens
    lengths: torch.Tensor  # long (batch,) real tokens per sentence, all >= 1
    tags: torch.Tensor | None  # long (batch, time) label ids, 0 on padding; None untagged
    indices: list[int]  # position of each row's sentence in the caller's list

    def to(self, device: torch.device) -> Batch:
        tags = None if self.tags is None else self.tags.to(device)
        return Batch(self.words.to(device), self.mask.to(device), self.lengths.to(device),
                     tags, self.indices)


def bucket_batches(lengths: list[int], batch_size: int,
                   rng: np.random.Generator | None = None) -> list[list[int]]:
    """Group sentence indices into batches of similar length.

    With `rng`, ties in length are broken at random and the batch order is shuffled, so
    each epoch sees different batches; without it the order is deterministic (longest
    first, which keeps padding low and memory peaks early).
    """
    order = np.arange(len(lengths))
    if rng is not None:
        order = rng.permutation(len(lengths))
    order = order[np.argsort(-np.asarray(lengths)[order], kind="stable")]
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def collate(word_ids: list[list[int]], tag_ids: list[list[int]] | None,
            indices: list[int]) -> Batch:
    """Pad the sentences at `indices` into one Batch."""
    lengths = np.fromiter((len(word_ids[i]) for i in indices), dtype=np.int64, count=len(indices))
    if lengths.size == 0 or lengths.min() < 1:
        raise ValueError("collate needs at least one sentence, none of them empty")
    width = int(lengths.max())
    mask = np.arange(width)[None, :] < lengths[:, None]  # (batch, time)
    words = np.zeros((len(indices), width), dtype=np.int64)  # (batch, time)
    words[mask] = np.concatenate([word_ids[i] for i in indices])
    tags = None
    if tag_ids is not None:
        tags = np.zeros_like(words)  # (batch, time)
        tags[mask] = np.concatenate([tag_ids[i] for i in indices])
        tags = torch.from_numpy(tags)
    return Batch(torch.from_numpy(words), torch.from_numpy(mask), torch.from_numpy(lengths),
                 tags, list(indices))
