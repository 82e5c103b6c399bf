"""Entities given as character offsets, put onto tokens: offset units, alignment, overlaps.

Offsets count code points (Python string indices) or, for JavaScript tools, UTF-16 code
units (`Units`). An entity must start where a token starts and end where a token ends;
one that does not is an error by default, or (`misaligned`) is widened to the tokens it
touches (`expand`) or dropped (`skip`), and counted. Entities are flat: two that share a
token are an error, or (`overlapping: skip`) the first by start, longest first, is kept.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from ner_rnn.data.schemes import Span
from ner_rnn.errors import DataFormatError, shorten

CharSpan = tuple[int, int, str]  # (start, end, label) in code points, end exclusive
Token = tuple[str, int, int]  # (text, start, end) as the tokeniser gives them


class Units:
    """Offsets into `text` in code points or UTF-16 units, and the code points they mean."""

    def __init__(self, text: str, utf16: bool):
        self.text = text
        self.name = "UTF-16 units" if utf16 else "characters"
        self._units: list[int] | None = None  # UTF-16 offset of each code point boundary
        if utf16 and not all(c <= "\uffff" for c in text):  # astral characters take two
            self._units = [0]
            for char in text:
                self._units.append(self._units[-1] + (2 if char > "\uffff" else 1))
            self._index = {unit: point for point, unit in enumerate(self._units)}
        self.length = len(text) if self._units is None else self._units[-1]

    def to_point(self, offset: int) -> int | None:
        """The code point index at `offset` (0 <= offset <= length); None inside a
        character's pair of UTF-16 units."""
        return offset if self._units is None else self._index.get(offset)

    def from_point(self, point: int) -> int:
        return point if self._units is None else self._units[point]


@dataclass
class AlignCounts:
    """Entities moved or dropped while reading, for the summary line."""

    expanded: int = 0
    misaligned: int = 0  # dropped: not on token boundaries (skip) or covering no token
    overlapping: int = 0  # dropped: overlapping a kept entity

    def summary(self) -> str:
        """`3 entities expanded to token boundaries, ...`; empty when nothing moved."""
        parts = []
        if self.expanded:
            entities = "entity" if self.expanded == 1 else "entities"
            parts.append(f"{self.expanded} {entities} expanded to token boundaries")
        if self.misaligned:
            parts.append(f"{self.misaligned} skipped as not on token boundaries")
        if self.overlapping:
            parts.append(f"{self.overlapping} skipped as overlapping another")
        return ", ".join(parts)


@dataclass
class Aligner:
    """Turns one text's character spans into token spans, by the policies given."""

    misaligned: str = "error"  # error | expand | skip
    overlapping: str = "error"  # error | skip
    counts: AlignCounts = field(default_factory=AlignCounts)

    def token_spans(self, where: str, units: Units, tokens: Sequence[Token],
                    entities: Sequence[CharSpan]) -> list[Span]:
        """Token spans (start, end, label) of `entities` (offsets already code points);
        errors start with `where` and show offsets in `units`."""
        starts = [start for _, start, _ in tokens]
        ends = [end for _, _, end in tokens]
        placed: list[tuple[Span, CharSpan]] = []
        for entity in sorted(set(entities), key=lambda e: (e[0], -e[1], e[2])):
            span = self._place(where, units, starts, ends, entity)
            if span is not None:
                placed.append((span, entity))
        return self._flat(where, units, placed)

    def _place(self, where: str, units: Units, starts: list[int], ends: list[int],
               entity: CharSpan) -> Span | None:
        start, end, label = entity
        first = bisect.bisect_right(ends, start)  # the first token ending after `start`
        last = bisect.bisect_left(starts, end)  # one past the last token starting before `end`
        if first < last and starts[first] == start and ends[last - 1] == end:
            return first, last, label
        if first >= last:
            if self.misaligned == "error":
                raise DataFormatError(f"{where}: entity {_show(units, entity)} covers no "
                                      "token (only spaces); fix the offsets, or set "
                                      "data.misaligned (convert: --misaligned) to skip")
            self.counts.misaligned += 1
            return None
        if self.misaligned == "error":
            around, stop = starts[first], ends[last - 1]
            raise DataFormatError(
                f"{where}: entity {_show(units, entity)} is not on token boundaries; the "
                f"nearest around it are [{units.from_point(around)}, {units.from_point(stop)}] "
                f"({_quote(units.text[around:stop])}); fix the offsets, or set "
                "data.misaligned (convert: --misaligned) to expand or skip")
        if self.misaligned == "skip":
            self.counts.misaligned += 1
            return None
        self.counts.expanded += 1
        return first, last, label

    def _flat(self, where: str, units: Units, placed: list[tuple[Span, CharSpan]]
              ) -> list[Span]:
        """The spans without overlaps, in order: an overlap is an error, or the later of
        the two (by start, longest first) is dropped."""
        kept: list[tuple[Span, CharSpan]] = []
        for span, entity in sorted(placed, key=lambda p: (p[0][0], -p[0][1], p[0][2])):
            if kept and span[0] < kept[-1][0][1]:
                if self.overlapping == "error":
                    other = kept[-1][1]
                    raise DataFormatError(
                        f"{where}: entities {_show(units, other)} and {_show(units, entity)} "
                        "overlap (one inside or across the other); entities are flat: keep "
                        "one, or set data.overlapping (convert: --overlapping) to skip")
                self.counts.overlapping += 1
                continue
            kept.append((span, entity))
        return [span for span, _ in kept]


def _show(units: Units, entity: CharSpan) -> str:
    """`[0, 5, "ORG"] ("Apple")` with offsets in the file's units."""
    start, end, label = entity
    label = json.dumps(label, ensure_ascii=False)
    return (f"[{units.from_point(start)}, {units.from_point(end)}, {label}] "
            f"({_quote(units.text[start:end])})")


def _quote(text: str) -> str:
    return json.dumps(shorten(text, 40), ensure_ascii=False)
