"""`ner-rnn convert`: a tagged corpus rewritten as CoNLL columns or JSON lines.

Any format `read_corpus` reads goes in. CoNLL out is `token tag` lines in `scheme`;
JSON lines out are `{"text", "entities"}`, one line a sentence (see
`spans_jsonl.jsonl_line`). `-DOCSTART-` documents and columns other than the token and
its tag are not carried over.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ner_rnn.config import DataConfig
from ner_rnn.data.conll import format_conll
from ner_rnn.data.corpus import read_corpus
from ner_rnn.data.schemes import convert, detect_scheme
from ner_rnn.data.spans_jsonl import jsonl_record
from ner_rnn.files import atomic_write_text

log = logging.getLogger(__name__)

TARGETS = ("conll", "jsonl")


def convert_corpus(source: str | Path, target: str | Path, to: str, data: DataConfig,
                   scheme: str = "iob2") -> int:
    """Rewrite `source` (read by `data`) at `target` in format `to`; CoNLL tags are
    written in `scheme`, JSON offsets in `data.offsets` units. Returns the sentences."""
    sentences = read_corpus(source, data)
    found = data.scheme if data.scheme != "auto" else detect_scheme(
        [s.tags for s in sentences], str(source), [s.line for s in sentences])
    if to == "conll":
        text = format_conll([[[token, tag] for token, tag in
                              zip(s.tokens, convert(s.tags, found, scheme))]
                             for s in sentences])
    else:
        records = [jsonl_record(s.tokens, s.tags, found, data.offsets == "utf16")
                   for s in sentences]
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        documents = len({s.document for s in sentences})
        if documents > 1:
            log.info("%s: the %d -DOCSTART- documents are not kept: each JSON line is a "
                     "document of its own", target, documents)
        kept = sum("tokens" in record for record in records)
        if kept:
            log.info("%s: %d sentences carry their \"tokens\": tag's tokeniser would split "
                     "their text otherwise", target, kept)
    atomic_write_text(target, text)
    return len(sentences)
