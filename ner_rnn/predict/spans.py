"""Entity spans and tag conversion for many sentences at once, as table lookups: how
every predicted path is read, for scoring and for serving alike.

`schemes.spans` and `schemes.tags_from_spans` read and write one sentence a tag at a
time (the plain reference, and what reads gold data); prediction reads thousands.
conlleval decides where an entity starts or ends from each pair of neighbouring tags
alone (once BIOES is read as IOB2), and from a pair only by the two prefixes and
whether the types match: two tables indexed by (previous prefix, prefix, same type),
filled by the very rules `schemes` applies, find every boundary of a whole batch in a
few array operations, and nothing grows with the square of the labels (5,000 types are
10,001 labels). tests/test_reference_paths.py holds the two ways equal.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ner_rnn.data.schemes import chunk_ends, chunk_starts, split_tag, to_iob2_prefixes

_PREFIXES = "BIESO"


def _pair_table(rule) -> np.ndarray:
    """bool (prefix, prefix, same type): `rule(previous prefix, prefix, previous type,
    type)` of schemes; the rules only ask whether the two types are equal."""
    return np.array([[[rule(previous, prefix, "X", "X" if same else "Y") for same in (0, 1)]
                      for prefix in _PREFIXES] for previous in _PREFIXES])


_STARTS, _ENDS = _pair_table(chunk_starts), _pair_table(chunk_ends)


@dataclass(frozen=True)
class Spans:
    """Entities of consecutive sentences, in order: sentence by sentence, left to right."""

    sentence: np.ndarray  # int64 (entities,) which sentence
    start: np.ndarray  # int64 (entities,) first token, counted within the sentence
    end: np.ndarray  # int64 (entities,) one past the last token
    type: np.ndarray  # int64 (entities,) index into `SpanReader.types`

    def __len__(self) -> int:
        return len(self.sentence)


class SpanReader:
    """Reads tags given as label ids (`labels[id]`, tags of `scheme`) into spans, and
    writes spans as the ids of `TagWriter` tags.

    >>> reader = SpanReader(["B-PER", "I-PER", "O"], "iob2")
    >>> reader.spans(np.array([0, 1, 2]), np.array([3])).end.tolist()
    [2]
    """

    def __init__(self, labels: Sequence[str], scheme: str):
        prefixed = to_iob2_prefixes(labels) if scheme == "bioes" else list(labels)
        parsed = [split_tag(tag) for tag in prefixed] + [("O", "")]  # last: the sentinel O
        self.types = sorted({type_ for _, type_ in parsed if type_})
        self.sentinel = len(labels)
        # int64 (labels + 1,) each label's prefix (an index into _PREFIXES) and type
        # (into `types`; -1 for O)
        self.prefix = np.array([_PREFIXES.index(prefix) for prefix, _ in parsed])
        number = {type_: index for index, type_ in enumerate(self.types)}
        self.type_of = np.array([number[type_] if type_ else -1 for _, type_ in parsed])

    @classmethod
    @functools.lru_cache(maxsize=8)
    def of(cls, labels: tuple[str, ...], scheme: str) -> SpanReader:
        """The reader of a model's labels, built once per model and shared."""
        return cls(labels, scheme)

    def spans(self, tags: np.ndarray, lengths: np.ndarray) -> Spans:
        """tags: int (tokens,) label ids of sentences of `lengths` (sentences,) tokens,
        one after another. Each sentence is read with a sentinel O after it, as
        conlleval reads it; the sentinel before the first tag is the previous one's."""
        lengths = np.asarray(lengths, dtype=np.int64)
        count = len(lengths)
        first = np.cumsum(lengths + 1) - (lengths + 1)  # where each sentence begins, sentinels included
        extended = np.full(int(lengths.sum()) + count, self.sentinel)  # (tokens + sentences,)
        extended[_positions(first, lengths)] = tags
        previous = np.roll(extended, 1)  # before each first tag: a sentinel
        pair = (self.prefix[previous], self.prefix[extended],
                (self.type_of[previous] == self.type_of[extended]).view(np.int8)
                )  # (tokens + sentences,) each: indices, a bool one would be a mask
        starts = np.flatnonzero(_STARTS[pair])
        # conlleval ends an entity only where one is open; with B/I/O tags that is after
        # any tag but O, and chunk_ends is False after O, so no state is needed
        ends = np.flatnonzero(_ENDS[pair])
        sentence = np.searchsorted(first, starts, side="right") - 1
        return Spans(sentence, starts - first[sentence], ends - first[sentence],
                     self.type_of[extended[starts]])


class TagWriter:
    """Writes spans as tags of `scheme`, exactly as `schemes.tags_from_spans` does: ids
    into `self.tags`, a table of tag strings (`O` first)."""

    def __init__(self, types: Sequence[str], scheme: str):
        self.scheme = scheme
        self.tags = ["O"] + [f"{prefix}-{type_}" for type_ in types for prefix in "BIES"]

    def write(self, spans: Spans, lengths: np.ndarray) -> np.ndarray:
        """int64 (tokens,): the tag id of every token of sentences of `lengths`."""
        lengths = np.asarray(lengths, dtype=np.int64)
        tags = np.zeros(int(lengths.sum()), dtype=np.int64)  # O
        if not len(spans):
            return tags
        offset = (np.cumsum(lengths) - lengths)[spans.sentence]  # (entities,)
        begin, end, code = offset + spans.start, offset + spans.end, 1 + 4 * spans.type
        size = end - begin
        tags[_positions(begin, size)] = np.repeat(code + 1, size)  # I-X everywhere
        if self.scheme == "iob2":
            tags[begin] = code
        elif self.scheme == "bioes":
            tags[end - 1] = np.where(size == 1, code + 3, code + 2)  # S-X alone, else E-X last
            tags[begin[size > 1]] = code[size > 1]
        else:  # IOB1 marks only a start that touches the previous entity of its type
            touching = np.zeros(len(spans), dtype=bool)
            touching[1:] = ((end[:-1] == begin[1:]) & (code[:-1] == code[1:])
                            & (spans.sentence[:-1] == spans.sentence[1:]))
            tags[begin[touching]] = code[touching]
        return tags


class Retagger:
    """The paths of a model (label ids of `labels`, tags of `model_scheme`) read as
    spans and written back as tags of `scheme`."""

    def __init__(self, labels: Sequence[str], model_scheme: str, scheme: str):
        self.reader = SpanReader.of(tuple(labels), model_scheme)
        self.writer = TagWriter(self.reader.types, scheme)

    def tags(self, tags: np.ndarray, lengths: np.ndarray) -> list[list[str]]:
        """tags: int (tokens,) label ids of sentences of `lengths` (sentences,) tokens ->
        their tags in `scheme`, one list a sentence."""
        lengths = np.asarray(lengths, dtype=np.int64)
        target = self.writer.write(self.reader.spans(tags, lengths), lengths).tolist()
        names, bounds = self.writer.tags, np.cumsum(lengths).tolist()
        return [[names[i] for i in target[end - length:end]]
                for length, end in zip(lengths.tolist(), bounds)]


def _positions(begin: np.ndarray, size: np.ndarray) -> np.ndarray:
    """int64: begin[i], begin[i] + 1, ..., begin[i] + size[i] - 1 for each i, in order."""
    placed = np.cumsum(size) - size
    return np.repeat(begin - placed, size) + np.arange(int(size.sum()))
