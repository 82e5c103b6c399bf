"""Raw lines as tagging needs them, many at a time: each token's character offsets (for
the results) and the model's ids (an `Encoded` block). Torch-free, so that the
pipeline's worker processes can run it without loading torch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from ner_rnn.data.encoding import Encoded, encode_tokens
from ner_rnn.data.tokenize import split_whitespace, tokenize
from ner_rnn.data.vocab import Vocabularies


@dataclass(frozen=True)
class Lines:
    """Consecutive input lines, tokenised and encoded."""

    texts: list[str]
    offsets: np.ndarray  # int32 (tokens, 2) start and end character of each token in its line
    encoded: Encoded  # one sentence per line; documents set by whoever reads the stream

    def __len__(self) -> int:
        return len(self.texts)

    def slice(self, start: int, stop: int) -> Lines:
        """Lines start..stop-1."""
        first, last = self.encoded.starts[start], self.encoded.starts[stop]
        return Lines(self.texts[start:stop], self.offsets[first:last],
                     self.encoded.slice(start, stop))

    @classmethod
    def concatenate(cls, parts: Sequence[Lines]) -> Lines:
        if len(parts) == 1:
            return parts[0]
        return cls([text for part in parts for text in part.texts],
                   np.concatenate([part.offsets for part in parts]),
                   Encoded.concatenate([part.encoded for part in parts]))


@dataclass(frozen=True)
class LineEncoder:
    """Tokenises lines (`pretokenized`: on whitespace only) and encodes their tokens."""

    vocabs: Vocabularies
    char_length: int | None  # characters read per word; None: the model has no char features
    pretokenized: bool = False

    def __call__(self, texts: Sequence[str]) -> Lines:
        split = split_whitespace if self.pretokenized else tokenize
        found = [split(text) for text in texts]
        tokens = [token for line in found for token, _, _ in line]
        offsets = np.fromiter(chain.from_iterable((start, end) for line in found
                                                  for _, start, end in line),
                              dtype=np.int32, count=2 * len(tokens)).reshape(-1, 2)
        lengths = [len(line) for line in found]
        return Lines(list(texts), offsets,
                     encode_tokens(self.vocabs, tokens, lengths, self.char_length))
