"""Reading text input: files opened as bytes, lines capped in length and strictly decoded.

Every reader of user text (corpora, prediction files, `tag`'s input) goes through here:
an invalid byte stops with a DataFormatError naming `NAME:LINE`, and so does a line
longer than MAX_LINE_BYTES, so an endless line (`/dev/zero`, a decompression bomb) can
never fill memory. `decoded_lines` drops a BOM that starts a line (the input's first, or
one in the middle where `cat a b` joined files) and refuses a carriage return inside a
line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ner_rnn.errors import DataFormatError

MAX_LINE_BYTES = 1 << 20  # 1 MiB: a paragraph of some 150,000 words
BOM = "\ufeff"  # a byte order mark: an encoding's signature, never part of the text


def open_binary(path: str | Path) -> BinaryIO:
    """Open a file to read its bytes; a directory, a missing or an unreadable file is a
    DataFormatError naming it."""
    if Path(path).is_dir():
        raise DataFormatError(f"{path}: is a directory, expected a file")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no such file") from None
    except OSError as error:
        raise DataFormatError(f"{path}: cannot read ({error.strerror})") from None


def raw_lines(stream: BinaryIO, name: str | Path, long_hint: str = "") -> Iterator[bytes]:
    """The stream's lines as bytes, line ends kept, read as they are needed; a line
    longer than MAX_LINE_BYTES, its end (LF or CRLF) aside, is a DataFormatError naming
    NAME:LINE (and ending in `long_hint`, a word on what to do)."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 2):  # room for the longest line and "\r\n"
        number += 1
        if len(raw.removesuffix(b"\n").removesuffix(b"\r")) > MAX_LINE_BYTES:
            hint = (" (lines ending in CR alone? convert them to \\n)" if b"\r" in raw
                    else long_hint)
            raise DataFormatError(f"{name}:{number}: line longer than {MAX_LINE_BYTES} bytes, "
                                  f"the most a line may hold{hint}")
        yield raw


def decoded_lines(stream: BinaryIO, name: str | Path, long_hint: str = "") -> Iterator[str]:
    """The stream's lines without their line ends, decoded strictly as UTF-8 (`long_hint`
    as in `raw_lines`)."""
    number = 0
    try:
        for number, raw in enumerate(raw_lines(stream, name, long_hint), start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataFormatError(
                    f"{name}:{number}: invalid UTF-8 (byte 0x{raw[error.start]:02x}); "
                    "convert the input to UTF-8") from None
            text = text.rstrip("\r\n").removeprefix(BOM)
            if "\r" in text:  # split() would take it for a space: CR-only line ends
                raise DataFormatError(f"{name}:{number}: carriage return inside a line (lines "
                                      "ending in CR alone?); convert the line ends to \\n")
            yield text
    except OSError as error:
        raise DataFormatError(f"{name}:{number + 1}: cannot read ({error.strerror})") from None


def file_lines(path: str | Path) -> list[str]:
    """All lines of a UTF-8 file, as `decoded_lines` reads them."""
    with open_binary(path) as file:
        return list(decoded_lines(file, path))
