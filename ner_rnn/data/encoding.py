"""One sentence as id arrays: words, casing classes, characters and labels."""

from __future__ import annotations

from dataclasses import dataclass

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


def join(parts: list[Example]) -> Example:
    """Sentences one after another as one sequence (tags are not needed by the encoder)."""
    if len(parts) == 1:
        return parts[0]
    chars = None
    if parts[0].chars is not None:
        chars = np.zeros((sum(len(p) for p in parts), max(p.chars.shape[1] for p in parts)),
                         dtype=np.int64)  # (tokens, longest word)
        start = 0
        for part in parts:
            chars[start : start + len(part), : part.chars.shape[1]] = part.chars
            start += len(part)
    return Example(np.concatenate([p.words for p in parts]),
                   np.concatenate([p.casing for p in parts]), chars, None, parts[0].document)
