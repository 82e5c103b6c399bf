"""Sentences as id arrays, and length-bucketed batches of padded tensors.

The encoder reads *rows*: each row is one sentence, or, with document context, a window
of consecutive sentences of one document read as a single sequence. Heads, losses and
decoders always see sentences. No sentence is ever truncated or dropped.
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
    """A batch of sentences, padded to the longest one. Padding id is 0 everywhere.

    `words`, `casing`, `chars`, `row_mask` and `row_lengths` are the encoder's rows;
    `mask`, `lengths` and `tags` are the sentences. Without document context the rows
    are the sentences (`positions` is None and the row fields are the sentence ones).
    """

    words: torch.Tensor  # long (rows, row time) word ids
    casing: torch.Tensor  # long (rows, row time) casing class ids
    chars: torch.Tensor | None  # long (rows, row time, chars) char ids, or None unused
    mask: torch.Tensor  # bool (batch, time), True on real tokens
    lengths: torch.Tensor  # long (batch,) real tokens per sentence, all >= 1
    tags: torch.Tensor | None  # long (batch, time) label ids, 0 on padding; None untagged
    indices: list[int]  # position of each sentence in the caller's list
    row_mask: torch.Tensor  # bool (rows, row time), True on real tokens
    row_lengths: torch.Tensor  # long (rows,) real tokens per row
    positions: torch.Tensor | None = None  # long (batch, time): token's index in the
    # flattened (rows * row time) encoder output, 0 on padding; None when rows are sentences

    def to(self, device: torch.device) -> Batch:
        def move(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor.to(device)

        return Batch(move(self.words), move(self.casing), move(self.chars), move(self.mask),
                     move(self.lengths), move(self.tags), self.indices, move(self.row_mask),
                     move(self.row_lengths), move(self.positions))


def context_windows(documents: list[int], lengths: list[int], max_tokens: int
                    ) -> list[list[int]]:
    """Encoder rows: consecutive sentences of one document packed greedily into windows
    of at most `max_tokens` tokens (a longer sentence is a window alone). With
    `max_tokens` 0 every sentence is a row of its own."""
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


def bucket_batches(lengths: list[int], batch_size: int,
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


def batch_rows(documents: list[int], lengths: list[int], max_tokens: int, batch_size: int,
               rng: np.random.Generator | None = None) -> list[list[list[int]]]:
    """The sentences' `context_windows`, grouped by `bucket_batches`: each batch a list
    of at most `batch_size` encoder rows, each row a list of sentence indices."""
    rows = context_windows(documents, lengths, max_tokens)
    row_lengths = [sum(lengths[i] for i in row) for row in rows]
    return [[rows[r] for r in batch] for batch in bucket_batches(row_lengths, batch_size, rng)]


def collate(sentences: list[Encoded], rows: list[list[int]]) -> Batch:
    """Pad the sentences of `rows` (lists of sentence indices) into one Batch; each row
    is read by the encoder as one sequence, its sentences in order."""
    indices = [index for row in rows for index in row]
    chosen = [sentences[i] for i in indices]
    lengths = np.fromiter((len(s.words) for s in chosen), dtype=np.int64, count=len(chosen))
    if lengths.size == 0 or lengths.min() < 1:
        raise ValueError("collate needs at least one sentence, none of them empty")
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]  # (batch, time)
    tags = None if chosen[0].tags is None else torch.from_numpy(_pad([s.tags for s in chosen], mask))
    if len(rows) == len(indices):  # every row one sentence
        inputs, row_mask, row_lengths, positions = chosen, mask, lengths, None
    else:
        inputs = [_join([sentences[i] for i in row]) for row in rows]
        row_lengths = np.fromiter((len(s.words) for s in inputs), dtype=np.int64,
                                  count=len(inputs))
        row_mask = np.arange(row_lengths.max())[None, :] < row_lengths[:, None]  # (rows, row time)
        flat = np.flatnonzero(row_mask.ravel())  # row-major: sentence after sentence
        positions = np.zeros(mask.shape, dtype=np.int64)  # (batch, time)
        positions[mask] = flat
        positions = torch.from_numpy(positions)
    words = _pad([s.words for s in inputs], row_mask)  # (rows, row time)
    case = _pad([s.casing for s in inputs], row_mask)  # (rows, row time)
    chars = None
    if chosen[0].chars is not None:
        width = max(s.chars.shape[1] for s in inputs)
        padded = np.zeros(row_mask.shape + (width,), dtype=np.int64)  # (rows, row time, chars)
        for row, sentence in enumerate(inputs):
            padded[row, : sentence.chars.shape[0], : sentence.chars.shape[1]] = sentence.chars
        chars = torch.from_numpy(padded)
    mask_t, lengths_t = torch.from_numpy(mask), torch.from_numpy(lengths)
    row_mask_t = mask_t if positions is None else torch.from_numpy(row_mask)
    row_lengths_t = lengths_t if positions is None else torch.from_numpy(row_lengths)
    return Batch(torch.from_numpy(words), torch.from_numpy(case), chars, mask_t, lengths_t,
                 tags, indices, row_mask_t, row_lengths_t, positions)


def _join(parts: list[Encoded]) -> Encoded:
    """Sentences one after another as one sequence (tags are not needed by the encoder)."""
    if len(parts) == 1:
        return parts[0]
    chars = None
    if parts[0].chars is not None:
        chars = np.zeros((sum(len(p.words) for p in parts), max(p.chars.shape[1] for p in parts)),
                         dtype=np.int64)  # (tokens, longest word)
        start = 0
        for part in parts:
            chars[start : start + part.chars.shape[0], : part.chars.shape[1]] = part.chars
            start += part.chars.shape[0]
    return Encoded(np.concatenate([p.words for p in parts]),
                   np.concatenate([p.casing for p in parts]), chars, None)


def _pad(rows: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    padded = np.zeros(mask.shape, dtype=np.int64)  # (batch, time)
    padded[mask] = np.concatenate(rows)
    return padded
