"""Length-bucketed batches of padded tensors, in two views that cannot be confused.

The encoder reads *rows*: each row is one sentence or, with document context, a window
of consecutive sentences of one document read as a single sequence. Heads, losses and
decoders read *sentences*. A `Batch` carries both views and the map between them, also
when every row is one sentence (then the map is the identity). No sentence is ever
truncated or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ner_rnn.data.encoding import Encoded, Example


@dataclass
class Rows:
    """What the encoder reads. Padding id is 0 everywhere.

    Character features are computed once per distinct spelling of the batch (about
    three in five tokens in CoNLL batches): `chars` holds each spelling once, and
    `spelling` says which one each token is."""

    words: torch.Tensor  # long (rows, row time) word ids
    casing: torch.Tensor  # long (rows, row time) casing class ids
    chars: torch.Tensor | None  # long (spellings, chars) char ids, row 0 all padding;
    # None: no char features
    spelling: torch.Tensor | None  # long (rows, row time): the token's row of chars, 0 on padding
    mask: torch.Tensor  # bool (rows, row time), True on real tokens
    lengths: torch.Tensor  # long (rows,) real tokens per row

    def to(self, device: torch.device) -> Rows:
        def moved(x: torch.Tensor | None) -> torch.Tensor | None:
            return None if x is None else x.to(device)

        return Rows(self.words.to(device), self.casing.to(device), moved(self.chars),
                    moved(self.spelling), self.mask.to(device), self.lengths.to(device))


@dataclass
class Sentences:
    """What the head scores, and where each of its tokens sits in the rows."""

    mask: torch.Tensor  # bool (batch, time), True on real tokens
    lengths: torch.Tensor  # long (batch,) real tokens per sentence, all >= 1
    tags: torch.Tensor | None  # long (batch, time) label ids, 0 on padding; None: untagged
    positions: torch.Tensor  # long (batch, time): the token's index in the flattened
    # (rows * row time) encoder output; 0 on padding

    def from_rows(self, x: torch.Tensor) -> torch.Tensor:
        """x: float (rows, row time, features), the encoder's output -> float (batch,
        time, features), each sentence's tokens, zero on padding."""
        flat = x.flatten(0, 1).index_select(0, self.positions.flatten())  # (batch * time, f)
        return flat.view(*self.positions.shape, -1) * self.mask.unsqueeze(-1)

    def to(self, device: torch.device) -> Sentences:
        return Sentences(self.mask.to(device), self.lengths.to(device),
                         None if self.tags is None else self.tags.to(device),
                         self.positions.to(device))


@dataclass
class Batch:
    rows: Rows
    sentences: Sentences
    indices: list[int]  # position of each sentence in the caller's list of examples

    def to(self, device: torch.device) -> Batch:
        return Batch(self.rows.to(device), self.sentences.to(device), self.indices)


def context_windows(documents: Sequence[int], lengths: Sequence[int], max_tokens: int | None
                    ) -> list[list[int]]:
    """Encoder rows: consecutive sentences of one document packed greedily into windows
    of at most `max_tokens` tokens (a longer sentence is a window alone). With
    `max_tokens` None every sentence is a row of its own."""
    if max_tokens is None:
        return [[index] for index in range(len(lengths))]
    windows: list[list[int]] = []
    size = 0
    for index, (document, length) in enumerate(zip(documents, lengths)):
        if (windows and documents[windows[-1][-1]] == document
                and size + length <= max_tokens):
            windows[-1].append(index)
            size += length
        else:
            windows.append([index])
            size = length
    return windows


def bucket_batches(lengths: Sequence[int], batch_size: int,
                   rng: np.random.Generator | None = None) -> list[list[int]]:
    """Group indices of sequences (sentences or rows) into batches of similar length.

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


def plan_batches(examples: Sequence[Example] | Encoded, max_tokens: int | None, batch_size: int,
                 rng: np.random.Generator | None = None) -> list[list[list[int]]]:
    """The examples' `context_windows`, grouped by `bucket_batches`: each batch a list of
    at most `batch_size` encoder rows, each row a list of example indices."""
    if isinstance(examples, Encoded):
        lengths, documents = examples.lengths.tolist(), examples.documents.tolist()
    else:
        lengths = [len(example) for example in examples]
        documents = [example.document for example in examples]
    rows = context_windows(documents, lengths, max_tokens)
    row_lengths = [sum(lengths[i] for i in row) for row in rows]
    return [[rows[r] for r in batch] for batch in bucket_batches(row_lengths, batch_size, rng)]


def collate(examples: Sequence[Example] | Encoded, rows: list[list[int]]) -> Batch:
    """Pad the examples of `rows` (lists of example indices, see `plan_batches`) into one
    Batch; each row is read by the encoder as one sequence, its sentences in order."""
    indices = [index for row in rows for index in row]
    if isinstance(examples, Encoded):
        chosen = examples.take(indices)
    else:
        chosen = Encoded.from_examples([examples[i] for i in indices])
    lengths = chosen.lengths  # (batch,)
    if lengths.size == 0 or lengths.min() < 1:
        raise ValueError("collate needs at least one sentence, none of them empty")
    row_sizes = np.array([len(row) for row in rows])
    row_lengths = np.add.reduceat(lengths, np.cumsum(row_sizes) - row_sizes)  # (rows,)
    row_mask = np.arange(row_lengths.max())[None, :] < row_lengths[:, None]  # (rows, row time)
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]  # (batch, time)
    # the chosen tokens are in row order, sentence after sentence: so are both masks' Trues
    positions = np.zeros(mask.shape, dtype=np.int64)  # (batch, time)
    positions[mask] = np.flatnonzero(row_mask.ravel())
    tags = None if chosen.tags is None else torch.from_numpy(_pad(chosen.tags, mask))
    chars = spelling = None
    if chosen.chars is not None:
        width = int(np.flatnonzero(chosen.chars.any(axis=0)).max(initial=0)) + 1
        distinct, index = _distinct_rows(chosen.chars[:, :width])  # (spellings, chars), (tokens,)
        chars = torch.from_numpy(np.concatenate([np.zeros((1, width), dtype=np.int64),
                                                 distinct.astype(np.int64)]))
        spelling = torch.from_numpy(_pad(index + 1, row_mask))  # (rows, row time)
    encoder_rows = Rows(torch.from_numpy(_pad(chosen.words, row_mask)),
                        torch.from_numpy(_pad(chosen.casing, row_mask)), chars, spelling,
                        torch.from_numpy(row_mask), torch.from_numpy(row_lengths))
    sentences = Sentences(torch.from_numpy(mask), torch.from_numpy(lengths), tags,
                          torch.from_numpy(positions))
    return Batch(encoder_rows, sentences, indices)


def _pad(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """tokens (real tokens,) placed where `mask` (n, time) is True, 0 elsewhere."""
    padded = np.zeros(mask.shape, dtype=np.int64)  # (n, time)
    padded[mask] = tokens
    return padded


def _distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of x (n, width), and the index of each row among them (n,).
    Each row is compared as one opaque value (ten times faster than `axis=0`)."""
    x = np.ascontiguousarray(x)
    as_values = x.view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()  # (n,)
    distinct, index = np.unique(as_values, return_inverse=True)
    return distinct.view(x.dtype).reshape(-1, x.shape[1]), index.reshape(-1)
