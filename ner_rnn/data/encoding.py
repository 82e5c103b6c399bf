"""Sentences as id arrays: words, casing classes, characters and labels; one sentence
(`Example`) or many at once (`Encoded`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

import numpy as np

from ner_rnn.data.vocab import Vocabularies


@dataclass(frozen=True)
class Example:
    """One sentence as ids, built once and reused every epoch."""

    words: np.ndarray  # int64 (length,) word ids
    casing: np.ndarray  # int64 (length,) casing class ids
    chars: np.ndarray | None  # int64 (length, longest word) char ids; None: no char features
    tags: np.ndarray | None  # int64 (length,) label ids; None: untagged
    document: int = 0  # sentences of one document may share an encoder window

    def __len__(self) -> int:
        return len(self.words)


def encode(vocabs: Vocabularies, tokens: list[str], tags: list[str] | None = None,
           char_length: int | None = None, document: int = 0) -> Example:
    """Ids for one sentence; `char_length` (max characters per word) enables characters;
    `tags` are label strings of the vocabulary (the model's scheme)."""
    ids = [vocabs.token_ids(token, char_length or 0) for token in tokens]
    chars = None
    if char_length is not None:
        chars = np.zeros((len(ids), max((len(c) for _, _, c in ids), default=1) or 1),
                         dtype=np.int64)  # (tokens, longest word)
        for row, (_, _, char_ids) in enumerate(ids):
            chars[row, : len(char_ids)] = char_ids
    return Example(
        np.fromiter((word for word, _, _ in ids), dtype=np.int64, count=len(ids)),
        np.fromiter((case for _, case, _ in ids), dtype=np.int64, count=len(ids)),
        chars,
        None if tags is None else np.asarray(vocabs.labels.ids(tags), dtype=np.int64),
        document,
    )


@dataclass(frozen=True)
class Encoded:
    """Many sentences one after another as flat id arrays: a few columns instead of an
    `Example` each, so that building them, pickling them between processes and
    batching them needs no Python loop per sentence. Tagging encodes lines this way."""

    lengths: np.ndarray  # int64 (sentences,) tokens of each sentence; 0: an empty line
    documents: np.ndarray  # int64 (sentences,) document id of each sentence
    words: np.ndarray  # int (tokens,) word ids, sentence after sentence
    casing: np.ndarray  # int (tokens,) casing class ids
    chars: np.ndarray | None  # int (tokens, longest word) char ids, 0-padded; None: no chars
    tags: np.ndarray | None = None  # int (tokens,) label ids; None: untagged

    def __len__(self) -> int:
        return len(self.lengths)

    @cached_property
    def starts(self) -> np.ndarray:
        """int64 (sentences + 1,): where each sentence's tokens begin, then the end."""
        return np.concatenate([[0], np.cumsum(self.lengths)])

    def token_index(self, indices: np.ndarray) -> np.ndarray:
        """int64 (tokens,): positions of the tokens of sentences `indices`, in that order."""
        lengths = self.lengths[indices]
        placed = np.cumsum(lengths) - lengths  # where each chosen sentence's tokens land
        return np.repeat(self.starts[indices] - placed, lengths) + np.arange(lengths.sum())

    def with_documents(self, documents: Sequence[int]) -> Encoded:
        """The same sentences with these document ids, one per sentence."""
        if len(documents) != len(self):
            raise ValueError(f"documents: expected one id per sentence ({len(self)}), "
                             f"got {len(documents)}")
        return replace(self, documents=np.asarray(documents, dtype=np.int64))

    def take(self, indices: Sequence[int] | np.ndarray) -> Encoded:
        """The sentences `indices`, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return self._with(indices, self.token_index(indices))

    def slice(self, start: int, stop: int) -> Encoded:
        """Sentences `start` to `stop - 1` (views, no copy)."""
        return self._with(slice(start, stop), slice(self.starts[start], self.starts[stop]))

    def _with(self, sentences, tokens) -> Encoded:
        def pick(column):
            return None if column is None else column[tokens]

        return Encoded(self.lengths[sentences], self.documents[sentences], self.words[tokens],
                       self.casing[tokens], pick(self.chars), pick(self.tags))

    @classmethod
    def concatenate(cls, blocks: Sequence[Encoded]) -> Encoded:
        """The sentences of `blocks`, one block after another."""
        def joined(name: str) -> np.ndarray | None:
            columns = [getattr(block, name) for block in blocks]
            return None if columns[0] is None else np.concatenate(columns)

        chars = None
        if blocks[0].chars is not None:
            width = max(block.chars.shape[1] for block in blocks)
            chars = np.concatenate([np.pad(b.chars, ((0, 0), (0, width - b.chars.shape[1])))
                                    for b in blocks])  # (tokens, longest word)
        return cls(joined("lengths"), joined("documents"), joined("words"), joined("casing"),
                   chars, joined("tags"))

    @classmethod
    def from_examples(cls, examples: Sequence[Example]) -> Encoded:
        """Examples as one block."""
        return cls.concatenate([cls(np.array([len(e)]), np.array([e.document]), e.words,
                                    e.casing, e.chars, e.tags) for e in examples])


def encode_tokens(vocabs: Vocabularies, tokens: Sequence[str], lengths: Sequence[int],
                  char_length: int | None = None) -> Encoded:
    """Untagged sentences as one block (all of document 0): `tokens` of every sentence
    one after another, `lengths` tokens each; `char_length` as in `encode`."""
    ids = [vocabs.token_ids(token, char_length or 0) for token in tokens]
    count = len(ids)
    chars = None
    if char_length is not None:
        sizes = np.fromiter((len(c) for _, _, c in ids), dtype=np.int64, count=count)
        flat = np.fromiter(chain.from_iterable(c for _, _, c in ids), dtype=np.int32,
                           count=int(sizes.sum()))
        chars = np.zeros((count, int(sizes.max(initial=1)) or 1), dtype=np.int32)
        begins = np.cumsum(sizes) - sizes  # (tokens, longest word) filled row by row:
        chars[np.repeat(np.arange(count), sizes), np.arange(flat.size) - np.repeat(begins, sizes)] = flat
    return Encoded(np.asarray(lengths, dtype=np.int64), np.zeros(len(lengths), dtype=np.int64),
                   np.fromiter((word for word, _, _ in ids), dtype=np.int32, count=count),
                   np.fromiter((case for _, case, _ in ids), dtype=np.int32, count=count),
                   chars)
