"""What `tag` reads: lines of text, the sentences of CoNLL text, or the texts of JSON
lines, as `(text, document)`.

Input is bytes (a file, stdin, the command-line arguments) decoded strictly as UTF-8:
an invalid byte stops with a DataFormatError naming `NAME:LINE`, so invalid UTF-8 never
reaches the output. A BOM starting a line is dropped. The readers take an open binary
stream and a name for messages, and hold nothing else, so they can run anywhere.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from ner_rnn.data.conll import parse_conll
from ner_rnn.data.spans_jsonl import record_text
from ner_rnn.data.text import decoded_lines
from ner_rnn.errors import DataFormatError

Line = tuple[str, int | None]  # input text and its document id (None: blank lines end documents)


def read_lines(stream: BinaryIO, name: str, conll: bool = False) -> Iterator[Line]:
    """Lines of text (each with document None), or with `conll` the sentences of CoNLL
    text (tokens of the first column joined by spaces, each with its `-DOCSTART-`
    document)."""
    if not conll:
        return ((text, None) for text in decoded_lines(stream, name))
    return _conll_lines(stream, name)


def _conll_lines(stream: BinaryIO, name: str) -> Iterator[Line]:
    found = False
    for sentence in parse_conll(decoded_lines(stream, name), name, tagged=False):
        found = True
        yield " ".join(sentence.tokens), sentence.document
    if not found:
        raise DataFormatError(f"{name}: no sentences found (expected CoNLL columns)")


def jsonl_lines(stream: BinaryIO, name: str) -> Iterator[Line]:
    """The `"text"` of each JSON line (entities, if any, unread), each its own document
    (numbered by its line); blank lines are skipped."""
    for number, line in enumerate(decoded_lines(stream, name), start=1):
        if line.strip():
            yield record_text(line, f"{name}:{number}"), number


def argument_lines(arguments: list[str], conll: bool = False) -> Iterator[Line]:
    """The command-line arguments as input, read as a file holding each one on its own
    line(s): an argument holding a newline is several lines of text (or of CoNLL text with
    `conll`), a carriage return or an invalid UTF-8 byte is refused as in a file, and a
    BOM starting a line is dropped. Errors name `<arguments>:LINE`, counting lines."""
    chunks, line = [], 1
    for argument in arguments:
        try:  # undecodable argv bytes arrive as lone surrogates, which cannot be encoded
            chunk = argument.encode("utf-8")
        except UnicodeEncodeError:
            raise DataFormatError(f"<arguments>:{line}: invalid UTF-8") from None
        chunks.append(chunk if chunk.endswith(b"\n") else chunk + b"\n")
        line += chunks[-1].count(b"\n")
    return read_lines(io.BytesIO(b"".join(chunks)), "<arguments>", conll)
