"""Raw lines as tagging needs them, many at a time: each token's character offsets (for
the results) and the model's ids (an `Encoded` block). Torch-free, so that the
pipeline's worker processes can run it without loading torch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from ner_rnn.data.encoding import Encoded, encode_tokens
from ner_rnn.data.sentences import sentence_ends
from ner_rnn.data.tokenize import split_whitespace, tokenize
from ner_rnn.data.vocab import Vocabularies

Token = tuple[str, int, int]  # text, start and end character in its line


@dataclass(frozen=True)
class Lines:
    """Consecutive input lines, tokenised and encoded: one sentence each, or with
    sentence splitting each line's sentences, every one with its line's text."""

    texts: list[str]  # the line of each sentence
    offsets: np.ndarray  # int32 (tokens, 2) start and end character of each token in its line
    encoded: Encoded  # the sentences; documents set by whoever reads the stream
    # int32 (sentences, 2) the characters of its line each sentence covers, a line's first
    # sentence from 0 and its last to the line's end; None: one sentence a line
    windows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def slice(self, start: int, stop: int) -> Lines:
        """Sentences start..stop-1."""
        first, last = self.encoded.starts[start], self.encoded.starts[stop]
        return Lines(self.texts[start:stop], self.offsets[first:last],
                     self.encoded.slice(start, stop),
                     None if self.windows is None else self.windows[start:stop])

    def line_numbers(self) -> np.ndarray:
        """int64 (sentences,): the line of each sentence, counting these lines from 0
        (whole lines: a piece as encoded, not a chunk cut inside a line)."""
        if self.windows is None:
            return np.arange(len(self))
        return np.cumsum(self.windows[:, 0] == 0) - 1  # only a line's first starts at 0

    @classmethod
    def concatenate(cls, parts: Sequence[Lines]) -> Lines:
        if len(parts) == 1:
            return parts[0]
        windows = None
        if parts[0].windows is not None:
            windows = np.concatenate([part.windows for part in parts])
        return cls([text for part in parts for text in part.texts],
                   np.concatenate([part.offsets for part in parts]),
                   Encoded.concatenate([part.encoded for part in parts]), windows)


@dataclass(frozen=True)
class LineEncoder:
    """Tokenises lines (`pretokenized`: on whitespace only), with `split_sentences` cuts
    each into its sentences (see `sentences`), and encodes their tokens."""

    vocabs: Vocabularies
    char_length: int | None  # characters read per word; None: the model has no char features
    pretokenized: bool = False
    split_sentences: bool = False

    def __call__(self, texts: Sequence[str]) -> Lines:
        split = split_whitespace if self.pretokenized else tokenize
        found = [split(text) for text in texts]
        texts, windows = list(texts), None
        if self.split_sentences:
            texts, found, windows = _sentences(texts, found)
        tokens = [token for line in found for token, _, _ in line]
        offsets = np.fromiter(chain.from_iterable((start, end) for line in found
                                                  for _, start, end in line),
                              dtype=np.int32, count=2 * len(tokens)).reshape(-1, 2)
        lengths = [len(line) for line in found]
        return Lines(texts, offsets, encode_tokens(self.vocabs, tokens, lengths,
                                                   self.char_length), windows)


def _sentences(texts: list[str], lines: list[list[Token]]
               ) -> tuple[list[str], list[list[Token]], np.ndarray]:
    """The sentences of each line: their line's text, their tokens, and the characters
    of the line each covers (int32 (sentences, 2)); a line without tokens is one empty
    sentence."""
    sentence_texts, sentences, windows = [], [], []
    for text, tokens in zip(texts, lines):
        ends = sentence_ends(tokens)
        start = 0
        for end in ends:
            sentence = tokens[start:end]  # empty only on a line without tokens
            windows.append((sentence[0][1] if start else 0,
                            len(text) if end == ends[-1] else sentence[-1][2]))
            sentence_texts.append(text)
            sentences.append(sentence)
            start = end
    return sentence_texts, sentences, np.array(windows, dtype=np.int32).reshape(-1, 2)
