"""Reading and writing CoNLL column files.

One token a line, columns separated by ASCII spaces or tabs (only those, as conlleval: a
no-break space or U+3000 is part of a token), the token first and the tag in
`tag_column` (the last by default); blank lines end sentences; `-DOCSTART-` lines are
skipped wherever they appear (they end a sentence and start a new document).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ner_rnn.data.schemes import is_valid_tag
from ner_rnn.data.text import file_lines
from ner_rnn.errors import DataFormatError, excerpt


@dataclass(frozen=True)
class Sentence:
    """One sentence: its tokens, its tags (None when untagged) and where it came from."""

    tokens: list[str]
    tags: list[str] | None = None
    line: int = 0  # 1-based line of the first token in its file
    document: int = 0  # index of the -DOCSTART- document it belongs to


def read_conll(path: str | Path, tag_column: int = -1, tagged: bool = True) -> list[Sentence]:
    """Read every sentence of a CoNLL file; format errors name the file and line."""
    sentences = list(parse_conll(file_lines(path), path, tag_column, tagged))
    if not sentences:
        raise DataFormatError(f"{path}: no sentences found (expected CoNLL columns)")
    return sentences


def parse_conll(lines: Iterable[str], name: str | Path, tag_column: int = -1,
                tagged: bool = True) -> Iterator[Sentence]:
    """The sentences of CoNLL text given line by line, as they end; errors name `name`
    and the line."""
    rows: list[tuple[int, str, list[str]]] = []  # (line number, line, columns) per token
    counts = ColumnCounts()
    usual = None  # (column count, a line with it) of the sentence before
    document = 0
    seen = False  # a sentence has been read: the next -DOCSTART- starts a new document

    def sentence() -> Sentence:
        nonlocal usual
        usual = counts.check(name, usual)
        if tagged:
            for number, line, fields in rows:
                _check_tag(name, number, line, fields, tag_column)
        tokens = [fields[0] for _, _, fields in rows]
        tags = [fields[tag_column] for _, _, fields in rows] if tagged else None
        return Sentence(tokens, tags, rows[0][0], document)

    for number, line in enumerate(lines, start=1):
        fields = split_columns(line)
        if not fields or fields[0] == "-DOCSTART-":
            if rows:
                yield sentence()
                rows.clear()
                counts = ColumnCounts()
                seen = True
            if fields:
                document += 1 if seen else 0
            continue
        counts.add(number, line, len(fields))
        rows.append((number, line, fields))
    if rows:
        yield sentence()


class ColumnCounts:
    """How many lines of a sentence (or a file) have each column count, to name the line
    that breaks the count: a line whose last columns wrapped onto the next is the odd one,
    not the fragment after it."""

    def __init__(self) -> None:
        self.lines: Counter[int] = Counter()  # column count -> lines that have it
        self.first: dict[int, tuple[int, str]] = {}  # column count -> (line number, line)
        self.joined: set[int] = set()  # counts of two consecutive lines added up
        self.last = 0  # the count of the line added last

    def add(self, number: int, line: str, width: int) -> None:
        self.lines[width] += 1
        self.first.setdefault(width, (number, line))
        if self.last:
            self.joined.add(self.last + width)
        self.last = width

    def usual(self, before: int | None = None) -> int:
        """The count lines are held to: the most common; a tie goes to `before` (the
        count of the sentence before), then to a count two consecutive lines add up to
        (a line wrapped onto the next), then to `before` if two lines add up to it, then
        to the first line's count."""
        most = max(self.lines.values())
        tied = [width for width, lines in self.lines.items() if lines == most]
        if before in tied:
            return before
        wrapped = [width for width in tied if width in self.joined]
        if wrapped:
            return wrapped[0]
        return before if before in self.joined else tied[0]

    def check(self, name: str | Path, before: tuple[int, int] | None = None,
              what: str = "") -> tuple[int, int]:
        """The usual count and a line that has it; a DataFormatError naming the first line
        with another count. `before` is what this returned for the sentence before;
        `what` follows "expected N columns" in the message."""
        usual = self.usual(before[0] if before else None)
        line_with_usual = self.first[usual][0] if usual in self.first else before[1]
        odd = [(first, width) for width, first in self.first.items() if width != usual]
        if odd:
            (number, line), width = min(odd)
            raise DataFormatError(
                f"{name}:{number}: expected {usual} columns{what} as on line "
                f"{line_with_usual}, got {width}: {excerpt(line.strip())}"
            )
        return usual, line_with_usual


def split_columns(line: str) -> list[str]:
    """The columns of one line: separated by runs of ASCII spaces and tabs, nothing else
    (str.split would also cut at a no-break space inside `New\xa0York`)."""
    return [field for field in line.replace("\t", " ").split(" ") if field]


def _check_tag(path, number: int, line: str, fields: list[str], tag_column: int) -> None:
    if len(fields) < 2 or not -len(fields) <= tag_column < len(fields) or tag_column in (
        0, -len(fields)
    ):
        raise DataFormatError(
            f"{path}:{number}: expected a token and a tag in column {tag_column}, "
            f"got {len(fields)} column(s): {excerpt(line.strip())}"
        )
    tag = fields[tag_column]
    if not is_valid_tag(tag):
        raise DataFormatError(
            f'{path}:{number}: expected a tag "O", "B-X", "I-X", "E-X" or "S-X", '
            f"got {excerpt(tag)}: {excerpt(line.strip())}"
        )


def format_conll(rows: list[list[list[str]]]) -> str:
    """Sentences of rows of columns as CoNLL text: columns joined by spaces, blank lines between."""
    return "".join("".join(" ".join(row) + "\n" for row in sentence) + "\n" for sentence in rows)
