"""Pretrained word vectors: GloVe / word2vec text and fastText `.vec` files, gzip or not.

One word and its values a line, separated by spaces; fastText's first line `COUNT DIM`
is recognised and skipped. Only the vectors of `wanted` words are kept in memory.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ner_rnn.errors import DataFormatError


def read_vectors(path: str | Path, wanted: set[str]) -> tuple[dict[str, np.ndarray], int]:
    """Vectors of the `wanted` words found in the file, and the file's dimension."""
    path = Path(path)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        raise DataFormatError(f"{path}: {reason} (pretrained vectors expected)")
    found: dict[str, np.ndarray] = {}
    dim = None
    with _open(path) as lines:
        for number, raw in enumerate(lines, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataFormatError(f"{path}:{number}: invalid UTF-8") from None
            fields = line.rstrip(" ").split(" ")
            if number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
                dim = int(fields[1])  # fastText header: count and dimension
                continue
            if not line.strip():
                continue
            if dim is None:
                dim = len(fields) - 1
            if len(fields) - 1 != dim or dim < 1:
                raise DataFormatError(f"{path}:{number}: expected a word and {dim} values, got "
                                      f"{len(fields) - 1} values")
            word = fields[0]
            if word in wanted and word not in found:
                try:
                    found[word] = np.asarray(fields[1:], dtype=np.float32)
                except ValueError:
                    raise DataFormatError(f"{path}:{number}: expected numbers after the word "
                                          f"{word!r}") from None
    if dim is None:
        raise DataFormatError(f"{path}: no vectors found")
    return found, dim


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
