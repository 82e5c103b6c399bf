"""Reading a tagged corpus in any format `data.format` names: CoNLL columns, JSON lines
with character spans, or a Label Studio export.

`auto` goes by the extension (`.conll`, `.txt`, ... CoNLL; `.jsonl`, `.ndjson` JSON
lines; `.json` by its first byte), and for any other name by the first byte that is not
whitespace: `{` JSON lines, `[` a Label Studio array, anything else CoNLL.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from ner_rnn.config import DataConfig
from ner_rnn.data.conll import Sentence, parse_conll
from ner_rnn.data.spans_jsonl import SpanReader
from ner_rnn.data.text import decoded_lines, open_binary
from ner_rnn.errors import DataFormatError

log = logging.getLogger(__name__)

CONLL_SUFFIXES = frozenset({".conll", ".conllu", ".iob", ".iob2", ".bio", ".bioes", ".txt",
                            ".tsv"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
_SNIFF_BYTES = 4096  # enough to pass a BOM and leading blank lines
_LONG_HINT = (" (an export written on one line? indent it first: "
              "python -m json.tool FILE > INDENTED.json)")


def read_corpus(path: str | Path, data: DataConfig, offsets: str | None = None
                ) -> list[Sentence]:
    """Every sentence of a tagged corpus, read by `data`'s format, column and policies
    (`offsets` overrides `data.offsets`); one warning line says how many entities were
    expanded or skipped."""
    with open_binary(path) as stream:
        kind = data.format if data.format != "auto" else detect_format(path, stream)
        lines = decoded_lines(stream, path, _LONG_HINT if kind == "labelstudio" else "")
        if kind == "conll":
            sentences = list(parse_conll(lines, path, data.tag_column))
            expected = "CoNLL columns"
        else:
            reader = SpanReader(data.misaligned, data.overlapping, offsets or data.offsets)
            read = reader.jsonl if kind == "jsonl" else reader.labelstudio
            sentences = list(read(lines, str(path)))
            expected = "JSON lines" if kind == "jsonl" else "a Label Studio export"
            _summarise(path, reader)
    if not sentences:
        raise DataFormatError(f"{path}: no sentences found (expected {expected})")
    return sentences


def read_scored_corpus(path: str | Path, model_data: DataConfig, offsets: str | None = None
                       ) -> list[Sentence]:
    """A corpus a trained model is scored on (`evaluate`, `report`): its format found from
    the file itself, the rest read as the model's training data was."""
    return read_corpus(path, replace(model_data, format="auto"), offsets)


def detect_format(path: str | Path, stream: BinaryIO) -> str:
    """`conll`, `jsonl` or `labelstudio`, from the name or the stream's first bytes
    (peeked, not consumed)."""
    suffix = Path(path).suffix.lower()
    if suffix in CONLL_SUFFIXES:
        return "conll"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    try:
        start = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    except OSError:
        return "conll"  # the read proper says what is wrong
    first = start.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if first == b"{":
        return "jsonl"
    if first == b"[":
        return "labelstudio" if suffix == ".json" or _looks_like_json(start) else "conll"
    return "conll"


def _looks_like_json(start: bytes) -> bool:
    """`[` then `{` or `]`: a JSON array, where a CoNLL file would have a tag after `[`."""
    rest = start.removeprefix(b"\xef\xbb\xbf").lstrip()[1:].lstrip()
    return rest[:1] in (b"{", b"]")


def _summarise(path: str | Path, reader: SpanReader) -> None:
    summary = reader.counts.summary()
    if reader.unannotated:
        skipped = f"{reader.unannotated} tasks without an annotation skipped"
        summary = f"{summary}, {skipped}" if summary else skipped
    if summary:
        log.warning("%s: %s", path, summary)
