"""The tagging pipeline: lines in, formatted results out, in input order, with every
core busy.

    read lines ─▶ pieces ─▶ [workers: tokenise, encode] ─▶ chunks ─▶ model (this process)
                                                                        │
    write ◀── in order ◀── [workers: spans, tags, JSON] ◀── pieces ◀────┘

This process reads lines, cuts them into pieces of `PIECE_LINES`, and hands each piece
to a worker process (see `workers`), which tokenises and encodes it. Encoded pieces come
back in order and are gathered into chunks of `TagOptions.chunk_lines` lines; the model
tags a chunk in batches planned over the whole chunk; the tagged chunk goes back to the
workers in pieces to be formatted, and the text is written in order. While the model
runs on one chunk, workers encode the next and format the previous one. At most `ahead`
pieces wait at each end, so memory does not grow with the input.

With document context a chunk ends where an encoder window ends: the sentences of the
last window of a chunk (which the next lines may continue) are held back and tagged
with the next chunk, so the output does not depend on where chunks fall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import islice

import numpy as np

from ner_rnn.data.batching import context_windows
from ner_rnn.predict.decode import decode
from ner_rnn.serve.inputs import Line
from ner_rnn.serve.lines import LineEncoder, Lines
from ner_rnn.serve.results import Formatter, Results, Tagged
from ner_rnn.serve.tagger import Tagger
from ner_rnn.serve.workers import Jobs, pool

PIECE_LINES = 512  # lines a worker encodes or formats at a time


@dataclass(frozen=True)
class TagOptions:
    format: str = "json"
    offsets: str = "codepoints"  # jsonl: what entity offsets count (or utf16)
    pretokenized: bool = False
    scheme: str | None = None
    nbest: int = 1
    confidence: bool = False
    chunk_lines: int = 8192  # lines read, tagged and written at a time
    workers: int = 0  # worker processes; 0: everything in this process
    split_sentences: bool = False  # tag each sentence of a raw line on its own


def _everything(number: int) -> bool:
    return True


def jobs(tagger: Tagger, options: TagOptions) -> Jobs:
    """What the workers of `tagger`'s pipeline do."""
    prep = tagger.preprocessor
    results = Results(tagger.vocabs.labels.items, tagger.config.model.scheme,
                      options.scheme or tagger.scheme)
    return Jobs(LineEncoder(prep.vocabs, prep.char_length, options.pretokenized,
                            options.split_sentences),
                Formatter(results, options.format, options.offsets == "utf16",
                          as_written=not options.pretokenized))


def tag_lines(tagger: Tagger, lines: Iterator[Line], options: TagOptions,
              write: Callable[[int, str], None], mine: Callable[[int], bool] = _everything
              ) -> None:
    """Tag every line; `write(k, text)` gets the results in input order, `k` counting
    the chunks tagged.

    Only chunks whose number (from 0) is `mine` are tagged (torchrun ranks share them);
    the others are read but not tagged, and encoded only when document context needs
    their token counts to know where chunks end. Chunks count sentences: with sentence
    splitting several come from one line.
    """
    context = tagger.config.model.document_context
    size = options.chunk_lines
    ahead = max(2 * options.workers, 2 * -(-size // PIECE_LINES))
    if context or options.split_sentences:  # where chunks end depends on every line
        lines_to_encode, chunk_is_mine = lines, mine
    else:  # chunks are `size` lines: skip the other ranks' before any work
        lines_to_encode = (line for number, line in enumerate(lines) if mine(number // size))
        chunk_is_mine = _everything
    with pool(options.workers, jobs(tagger, options)) as workers:
        encoded = workers.map("encode", _pieces(lines_to_encode), ahead)
        chunks = _chunks(_with_documents(encoded), size, context)
        tagged = _tag(tagger, (chunk for number, chunk in enumerate(chunks)
                               if chunk_is_mine(number)), options)
        for number, text in workers.map("format", tagged, ahead):
            write(number, text)


def _pieces(lines: Iterator[Line]) -> Iterator[tuple[list[int | None], list[str]]]:
    """(documents, texts) of up to PIECE_LINES lines at a time."""
    while piece := list(islice(lines, PIECE_LINES)):
        yield [document for _, document in piece], [text for text, _ in piece]


def _with_documents(encoded: Iterator[tuple[list[int | None], Lines]]) -> Iterator[Lines]:
    """Encoded pieces with their document ids: the given ones (each sentence its line's),
    or where none are given, a count of the empty lines so far (an empty line ends a
    document; the sentences of a line are never empty, so they share its document)."""
    blank_lines = 0
    for documents, piece in encoded:
        if None in documents:
            ids = blank_lines + np.cumsum(piece.encoded.lengths == 0)  # (sentences,)
            blank_lines = int(ids[-1])
        else:
            ids = np.asarray(documents, dtype=np.int64)[piece.line_numbers()]  # (sentences,)
        yield replace(piece, encoded=replace(piece.encoded, documents=ids))


def _chunks(pieces: Iterator[Lines], size: int, context: int | None) -> Iterator[Lines]:
    """`size` lines at a time; with document context (windows of up to `context` tokens)
    a chunk ends before its last window, whose sentences go with the next chunk."""
    pending: list[Lines] = []
    held = 0  # lines pending
    wanted = size
    exhausted = False
    while True:
        while not exhausted and held < wanted:
            piece = next(pieces, None)
            exhausted = piece is None
            if piece is not None:
                pending.append(piece)
                held += len(piece)
        if not held:
            return
        lines = Lines.concatenate(pending)
        cut = min(wanted, held)
        if context and not (exhausted and cut == held):
            start = _last_window(lines.slice(0, cut), context)
            if start == 0:  # a single window so far, which the next lines may continue
                wanted += size
                continue
            cut = cut if start is None else start
        yield lines.slice(0, cut)
        pending, held, wanted = [lines.slice(cut, held)], held - cut, size


def _last_window(lines: Lines, context: int) -> int | None:
    """The line where the last encoder window of `lines` begins; None: no sentence."""
    encoded = lines.encoded
    sentences = np.flatnonzero(encoded.lengths > 0)
    if not sentences.size:
        return None
    windows = context_windows(encoded.documents[sentences].tolist(),
                              encoded.lengths[sentences].tolist(), context)
    return int(sentences[windows[-1][0]])


def _tag(tagger: Tagger, chunks: Iterator[Lines], options: TagOptions
         ) -> Iterator[tuple[int, Tagged]]:
    """(chunk number, tagged piece) for every piece of every chunk."""
    for number, chunk in enumerate(chunks):
        paths = decode(tagger.network, tagger.preprocessor, chunk.encoded, tagger.batch_size,
                       options.nbest, options.confidence)
        tagged = Tagged(chunk.texts, chunk.encoded.lengths, chunk.offsets, paths,
                        chunk.windows)
        for start in range(0, len(tagged), PIECE_LINES):
            yield number, tagged.slice(start, start + PIECE_LINES)
