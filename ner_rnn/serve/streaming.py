"""Tagging a stream of lines chunk by chunk, in one process or sharded across torchrun ranks.

Memory stays flat whatever the input size: lines are read, tagged and written a chunk at
a time. Under torchrun, rank r tags chunks r, r + N, r + 2N, ... into a part file of its
own; rank 0 then joins the parts in input order into the output, atomically.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TextIO

from ner_rnn import distributed
from ner_rnn.files import atomic_write
from ner_rnn.serve.formats import footer, format_result, header
from ner_rnn.serve.inputs import Line
from ner_rnn.serve.tagger import Tagger


@dataclass(frozen=True)
class TagOptions:
    format: str = "json"
    pretokenized: bool = False
    scheme: str | None = None
    nbest: int = 1
    confidence: bool = False
    chunk_lines: int = 8192  # lines read, tagged and written at a time


def chunks(lines: Iterator[Line], size: int) -> Iterator[list[Line]]:
    while chunk := list(islice(lines, size)):
        yield chunk


def tag_chunk(tagger: Tagger, chunk: list[Line], options: TagOptions) -> str:
    documents = [document for _, document in chunk]
    results = tagger.tag([text for text, _ in chunk], options.pretokenized, options.scheme,
                         options.nbest, options.confidence,
                         None if None in documents else documents)
    return "".join(format_result(result, options.format) for result in results)


def tag_stream(tagger: Tagger, lines: Iterator[Line], out: TextIO, options: TagOptions) -> None:
    """Tag every line, writing results in input order as each chunk is done."""
    out.write(header(options.format, entity_types(tagger)))
    out.writelines(tag_chunk(tagger, chunk, options) for chunk in chunks(lines, options.chunk_lines))
    out.write(footer(options.format))


def entity_types(tagger: Tagger) -> list[str]:
    """The entity types the model can predict, sorted."""
    return sorted({label[2:] for label in tagger.vocabs.labels.items if label != "O"})


def tag_file(tagger: Tagger, lines: Iterator[Line], output: str | Path, options: TagOptions,
             world: distributed.World) -> None:
    """Tag into `output` (atomically); sharded across ranks when run under torchrun."""
    if not world.active:
        def write(temp: Path) -> None:
            with open(temp, "w", encoding="utf-8") as out:
                tag_stream(tagger, lines, out, options)

        atomic_write(output, write)
        return
    part = Path(f"{output}.part{world.rank}")
    sizes = []  # bytes of each chunk this rank wrote, in order
    try:
        with open(part, "wb") as out:
            for number, chunk in enumerate(chunks(lines, options.chunk_lines)):
                if number % world.size == world.rank:
                    text = tag_chunk(tagger, chunk, options).encode("utf-8")
                    sizes.append(len(text))
                    out.write(text)
        all_sizes = distributed.gather(sizes, world)
        if world.is_main:
            atomic_write(output, lambda temp: _join_parts(
                temp, output, all_sizes,
                header(options.format, entity_types(tagger)).encode("utf-8"),
                footer(options.format).encode("utf-8")))
        distributed.barrier(world)
    finally:  # an error or a signal on any rank leaves no part file behind
        part.unlink(missing_ok=True)


def _join_parts(target: Path, output: str | Path, sizes: list[list[int]], head: bytes,
                tail: bytes) -> None:
    """Write `head`, chunk k from part k % N for k = 0, 1, 2, ... (one chunk in memory at
    a time), then `tail` into `target`."""
    with ExitStack() as stack, open(target, "wb") as out:
        parts = [stack.enter_context(open(f"{output}.part{rank}", "rb"))
                 for rank in range(len(sizes))]
        out.write(head)
        for number in range(sum(len(s) for s in sizes)):
            rank, index = number % len(sizes), number // len(sizes)
            out.write(parts[rank].read(sizes[rank][index]))
        out.write(tail)
