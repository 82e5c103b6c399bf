"""Tag schemes (IOB1, IOB2, BIOES), entity spans by conlleval.pl's rules, and conversion.

A span is `(start, end, type)` over token indices, end exclusive. For IOB1 and IOB2 the
spans are exactly the chunks conlleval.pl finds: an `I-X` after `O` or after another type
begins an entity, and `B-X` after `X` begins a new one. BIOES tags are read by mapping
`S-` to `B-` and `E-` to `I-` first, which is exact for well-formed BIOES.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ner_rnn.errors import DataFormatError

Span = tuple[int, int, str]

TAG_PATTERN = re.compile(r"^(?:O|[BIES]-\S+)$")


def is_valid_tag(tag: str) -> bool:
    """True for `O` and `B-X`, `I-X`, `E-X`, `S-X` with a non-empty type X."""
    return TAG_PATTERN.match(tag) is not None


def split_tag(tag: str) -> tuple[str, str]:
    """`"B-PER"` -> `("B", "PER")`; `"O"` -> `("O", "")`."""
    if tag == "O":
        return "O", ""
    return tag[0], tag[2:]


def chunk_ends(prev: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval.pl's endOfChunk for the prefixes B, I, E, S and O."""
    if (prev, tag) in {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"),
                       ("E", "E"), ("E", "I"), ("E", "O")}:
        return True
    return prev != "O" and prev_type != type_


def chunk_starts(prev: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval.pl's startOfChunk for the prefixes B, I, E, S and O."""
    if (prev, tag) in {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"),
                       ("E", "E"), ("E", "I"), ("O", "E")}:
        return True
    return tag != "O" and prev_type != type_


def conlleval_spans(tags: Sequence[str]) -> list[Span]:
    """Chunks exactly as conlleval.pl segments one sentence of IOB1 or IOB2 tags."""
    spans: list[Span] = []
    prev, prev_type, start = "O", "", None
    for i, tag in enumerate([*tags, "O"]):  # the sentence boundary acts as an O
        prefix, type_ = split_tag(tag)
        if start is not None and chunk_ends(prev, prefix, prev_type, type_):
            spans.append((start, i, prev_type))
            start = None
        if chunk_starts(prev, prefix, prev_type, type_):
            start = i
        prev, prev_type = prefix, type_
    return spans


def to_iob2_prefixes(tags: Sequence[str]) -> list[str]:
    """BIOES -> IOB2 by prefix only (S->B, E->I); exact for well-formed BIOES."""
    out = []
    for tag in tags:
        prefix, type_ = split_tag(tag)
        out.append(tag if prefix in "BIO" else ("B-" if prefix == "S" else "I-") + type_)
    return out


def spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """Entity spans of one sentence's tags written in `scheme`."""
    if scheme == "bioes":
        tags = to_iob2_prefixes(tags)
    return conlleval_spans(tags)


def tags_from_spans(spans_: Sequence[Span], length: int, scheme: str) -> list[str]:
    """Write non-overlapping spans as tags of `scheme` for a sentence of `length` tokens."""
    tags = ["O"] * length
    previous: Span | None = None
    for start, end, type_ in sorted(spans_):
        for i in range(start, end):
            tags[i] = "I-" + type_
        if scheme == "iob2":
            tags[start] = "B-" + type_
        elif scheme == "bioes":
            if end - start == 1:
                tags[start] = "S-" + type_
            else:
                tags[start], tags[end - 1] = "B-" + type_, "E-" + type_
        elif previous is not None and previous[1] == start and previous[2] == type_:
            tags[start] = "B-" + type_  # IOB1 marks only a start that touches its twin
        previous = (start, end, type_)
    return tags


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """One sentence's tags rewritten in `target`, always through their spans: the result
    is well-formed even when the input is not (BIOES `B-PER O` becomes `S-PER O`), and
    names exactly the entities conlleval reads in the input."""
    return tags_from_spans(spans(tags, source), len(tags), target)


def detect_scheme(sentences_tags: Sequence[Sequence[str]], source: str = "the tags",
                  lines: Sequence[int] | None = None) -> str:
    """The scheme of a corpus, from both kinds of evidence: BIOES if E-/S- occur; IOB1 if
    an `I-X` starts an entity (after `O` or another type); IOB2 if a `B-X` does (in IOB1
    a `B-` only separates two adjacent entities of one type); IOB2 when neither shows.

    Evidence both ways is an error naming `source` and the sentences' `lines` (1-based,
    one a sentence; their index when not given): set `data.scheme` to say which it is.
    """
    iob1 = iob2 = None  # (sentence, tag) of the first evidence of each
    for number, tags in enumerate(sentences_tags):
        prev_type = ""
        for tag in tags:
            prefix, type_ = split_tag(tag)
            if prefix in "ES":
                return "bioes"
            if prefix in "BI" and prev_type != type_:
                if prefix == "I":
                    iob1 = iob1 or (number, tag)
                else:
                    iob2 = iob2 or (number, tag)
            prev_type = type_
    if iob1 and iob2:
        def where(evidence: tuple[int, str]) -> str:
            line = lines[evidence[0]] if lines is not None else evidence[0] + 1
            return f"line {line}"
        raise DataFormatError(
            f"{source}: mixed tag schemes: {iob1[1]} starts an entity at {where(iob1)} "
            f"(IOB1) and {iob2[1]} at {where(iob2)} (IOB2); set data.scheme to the one the "
            "file is in")
    return "iob1" if iob1 else "iob2"


# The prefixes each scheme writes, and those a prefix never comes without: every entity in
# BIOES that a B- begins an E- ends; an I- in IOB2 always follows a B-, a B- in IOB1 an I-.
PREFIXES = {"iob1": "BIO", "iob2": "BIO", "bioes": "BIESO"}
COMPANIONS = {"iob1": {"B": "I"}, "iob2": {"I": "B"}, "bioes": {"B": "E", "I": "BE", "E": "B"}}


def foreign_labels(labels: Sequence[str], scheme: str) -> list[str]:
    """The labels (of a model's label set) that `scheme` cannot have produced: a prefix
    it does not write, or one without the tags that always come with it."""
    present = set(labels)
    return [label for label in labels
            if label[0] not in PREFIXES[scheme]
            or any(f"{other}-{label[2:]}" not in present
                   for other in COMPANIONS[scheme].get(label[0], ""))]


def allowed_transitions(labels: Sequence[str], scheme: str
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which tag may follow which in `scheme`: bool arrays (allowed (from, to),
    may_start (labels,), may_end (labels,)), built by array operations on the labels'
    prefixes and types (5,000 types are 10,001 labels, 10^8 pairs).

    IOB2: `I-X` only after `B-X` or `I-X`. BIOES: `I-X`/`E-X` only after `B-X`/`I-X`, and
    `B-`, `S-`, `O` only after `O`, `E-`, `S-`. IOB1: `B-X` only right after an `X`.
    """
    parsed = [split_tag(label) for label in labels]
    prefix = np.array([p for p, _ in parsed])  # (labels,) one letter each
    number = {type_: index for index, type_ in enumerate(sorted({t for _, t in parsed}))}
    type_ = np.array([number[t] for _, t in parsed], dtype=np.int64)  # (labels,)
    same = type_[:, None] == type_[None, :]  # (from, to)
    inside = np.isin(prefix, ["B", "I"])[:, None] & same  # (from, to): within an X
    if scheme == "iob2":
        allowed, may_start = (prefix != "I") | inside, prefix != "I"
    elif scheme == "iob1":
        allowed, may_start = (prefix != "B") | same, prefix != "B"
    else:
        continues = np.isin(prefix, ["I", "E"])  # (labels,)
        allowed = np.where(continues, inside, np.isin(prefix, ["O", "E", "S"])[:, None])
        may_start = ~continues
    may_end = np.isin(prefix, ["O", "E", "S"]) | (scheme != "bioes")
    return allowed, may_start, may_end
