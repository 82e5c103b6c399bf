"""Reading and writing CoNLL column files.

One token a line, columns separated by ASCII spaces or tabs (only those, as conlleval: a
no-break space or U+3000 is part of a token), the token first and the tag in
`tag_column` (the last by default); blank lines end sentences; `-DOCSTART-` lines are
skipped wherever they appear (they end a sentence and start a new document).
"""

from __future__ import annotations

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
    rows: list[list[str]] = []
    first_line = 0
    document = 0
    seen = False  # a sentence has been read: the next -DOCSTART- starts a new document

    def sentence() -> Sentence:
        tokens = [row[0] for row in rows]
        tags = [row[tag_column] for row in rows] if tagged else None
        return Sentence(tokens, tags, first_line, document)

    for number, line in enumerate(lines, start=1):
        fields = split_columns(line)
        if not fields or fields[0] == "-DOCSTART-":
            if rows:
                yield sentence()
                rows.clear()
                seen = True
            if fields:
                document += 1 if seen else 0
            continue
        if not rows:
            first_line = number
        elif len(fields) != len(rows[0]):
            raise DataFormatError(
                f"{name}:{number}: expected {len(rows[0])} columns as on line {first_line}, "
                f"got {len(fields)}: {excerpt(line.strip())}"
            )
        if tagged:
            _check_tag(name, number, line, fields, tag_column)
        rows.append(fields)
    if rows:
        yield sentence()


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
