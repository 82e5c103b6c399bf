"""Sentences as id arrays, and length-bucketed batches of padded tensors.

No sentence is ever truncated or dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ner_rnn.data.vocab import Vocabularies


@dataclass
class Encoded:
    """One sentence as ids, built once and reused every epoch."""

    words: np.ndarray  # int64 (length,) word ids
    casing: np.ndarray  # int64 (length,) casing class ids
    chars: np.ndarray | None  # int64 (length, longest word) char ids, or None unused
    tags: np.ndarray | None  # int64 (length,) label ids, or None untagged


def encode(vocabs: Vocabularies, tokens: list[str], tags: list[str] | None = None,
           char_length: int | None = None) -> Encoded:
    """Ids for one sentence; `char_length` (max characters per word) enables characters."""
    ids = [vocabs.token_ids(token, char_length or 0) for token in tokens]
    chars = None
    if char_length is not None:
        chars = np.zeros((len(ids), max((len(c) for _, _, c in ids), default=1) or 1),
                         dtype=np.int64)  # (tokens, longest word)
        for row, (_, _, char_ids) in enumerate(ids):
            chars[row, : len(char_ids)] = char_ids
    return Encoded(
        np.fromiter((word for word, _, _ in ids), dtype=np.int64, count=len(ids)),
        np.fromiter((case for _, case, _ in ids), dtype=np.int64, count=len(ids)),
        chars,
        None if tags is None else np.asarray(vocabs.labels.ids(tags), dtype=np.int64),
    )


@dataclass
class Batch:
    """A batch of sentences, padded to the longest one. Padding id is 0 everywhere."""

    words: torch.Tensor  # long (batch, time) word ids
    casing: torch.Tensor  # long (batch, time) casing class ids
    chars: torch.Tensor | None  # long (batch, time, chars) char ids, or None unused
    mask: torch.Tensor  # bool (batch, time), True on real tokens
    lengths: torch.Tensor  # long (batch,) real tokens per sentence, all >= 1
    tags: torch.Tensor | None  # long (batch, time) label ids, 0 on padding; None untagged
    indices: list[int]  # position of each row's sentence in the caller's list

    def to(self, device: torch.device) -> Batch:
        def move(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor.to(device)

        return Batch(move(self.words), move(self.casing), move(self.chars), move(self.mask),
                     move(self.lengths), move(self.tags), self.indices)


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


def collate(sentences: list[Encoded], indices: list[int]) -> Batch:
    """Pad the sentences at `indices` into one Batch."""
    chosen = [sentences[i] for i in indices]
    lengths = np.fromiter((len(s.words) for s in chosen), dtype=np.int64, count=len(chosen))
    if lengths.size == 0 or lengths.min() < 1:
        raise ValueError("collate needs at least one sentence, none of them empty")
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]  # (batch, time)
    words = _pad([s.words for s in chosen], mask)  # (batch, time)
    case = _pad([s.casing for s in chosen], mask)  # (batch, time)
    tags = None if chosen[0].tags is None else torch.from_numpy(_pad([s.tags for s in chosen], mask))
    chars = None
    if chosen[0].chars is not None:
        width = max(s.chars.shape[1] for s in chosen)
        padded = np.zeros(mask.shape + (width,), dtype=np.int64)  # (batch, time, chars)
        for row, sentence in enumerate(chosen):
            padded[row, : sentence.chars.shape[0], : sentence.chars.shape[1]] = sentence.chars
        chars = torch.from_numpy(padded)
    return Batch(torch.from_numpy(words), torch.from_numpy(case), chars, torch.from_numpy(mask),
                 torch.from_numpy(lengths), tags, list(indices))


def _pad(rows: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    padded = np.zeros(mask.shape, dtype=np.int64)  # (batch, time)
    padded[mask] = np.concatenate(rows)
    return padded
