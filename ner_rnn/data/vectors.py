"""Pretrained word vectors: GloVe / word2vec text and fastText `.vec` files, gzip or not.

One word and its values a line, separated by spaces; fastText's first line `COUNT DIM`
is recognised and skipped, and so is a BOM starting a line (the file's, or that of a
file joined to it). Only the vectors of `wanted` words are kept in memory.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ner_rnn.data.text import BOM, raw_lines
from ner_rnn.errors import DataFormatError, excerpt


def read_vectors(path: str | Path, wanted: set[str]) -> tuple[dict[str, np.ndarray], int]:
    """Vectors of the `wanted` words found in the file, and the file's dimension."""
    path = Path(path)
    if not path.is_file():  # a pipe could not be read twice (gzip detection reads ahead)
        reason = ("is a directory" if path.is_dir() else
                  "not a regular file" if path.exists() else "no such file")
        raise DataFormatError(f"{path}: {reason} (pretrained vectors expected)")
    found: dict[str, np.ndarray] = {}
    dim = None
    number = 0
    try:
        with _open(path) as lines:
            for number, raw in enumerate(raw_lines(lines, path), start=1):
                dim = _read_line(path, number, raw, wanted, found, dim)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataFormatError(f"{path}:{number + 1}: truncated or corrupt gzip file "
                              f"({error})") from None
    except OSError as error:
        raise DataFormatError(f"{path}:{number + 1}: cannot read ({error.strerror})") from None
    if dim is None:
        raise DataFormatError(f"{path}: no vectors found")
    return found, dim


def _read_line(path: Path, number: int, raw: bytes, wanted: set[str],
               found: dict[str, np.ndarray], dim: int | None) -> int | None:
    """Keep line `number`'s vector in `found` if its word is wanted; returns the file's
    dimension as known after this line."""
    try:
        line = raw.decode("utf-8").removeprefix(BOM).rstrip("\r\n")
    except UnicodeDecodeError:
        raise DataFormatError(f"{path}:{number}: invalid UTF-8") from None
    fields = line.rstrip(" ").split(" ")
    if number == 1 and len(fields) == 2 and all(f.isascii() and f.isdigit() for f in fields):
        return int(fields[1])  # fastText header: count and dimension
    if not line.strip():
        return dim
    if dim is None:
        dim = len(fields) - 1
    if len(fields) - 1 != dim or dim < 1:
        raise DataFormatError(f"{path}:{number}: expected a word and {dim} values, got "
                              f"{len(fields) - 1} values")
    word = fields[0]
    if word in wanted and word not in found:
        try:
            with np.errstate(over="ignore"):  # a value beyond float32 becomes inf: refused below
                vector = np.asarray(fields[1:], dtype=np.float32)
        except ValueError:
            raise DataFormatError(f"{path}:{number}: expected numbers after the word "
                                  f"{excerpt(word)}") from None
        if not np.isfinite(vector).all():
            raise DataFormatError(f"{path}:{number}: expected finite numbers after the word "
                                  f"{excerpt(word)}, got nan or inf (or a value beyond float32)")
        found[word] = vector
    return dim


def _open(path: Path):
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def lookup(words: list[str], vectors: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Row index -> vector for each vocabulary word found exactly, else lowercased."""
    rows = {}
    for index, word in enumerate(words):
        vector = vectors.get(word)
        if vector is None:
            vector = vectors.get(word.lower())
        if vector is not None:
            rows[index] = vector
    return rows
