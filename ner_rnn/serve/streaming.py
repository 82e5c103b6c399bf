"""Tagging a stream of lines into a file or stdout, in one process or sharded across
torchrun ranks.

Memory stays flat whatever the input size: lines are read, tagged and written a chunk at
a time (see `pipeline`). Under torchrun, each rank runs its own pipeline and tags chunks
r, r + N, r + 2N, ... into a part file of its own, a new hidden file beside the output
(never a file already there); rank 0 then joins the parts in input order into the
output, atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from ner_rnn import distributed
from ner_rnn.errors import NerError
from ner_rnn.files import atomic_write
from ner_rnn.serve.formats import footer, header
from ner_rnn.serve.pipeline import Line, TagOptions, tag_lines
from ner_rnn.serve.tagger import Tagger


def tag_stream(tagger: Tagger, lines: Iterator[Line], out: TextIO, options: TagOptions) -> None:
    """Tag every line, writing results in input order as they are done."""
    out.write(header(options.format, entity_types(tagger)))
    tag_lines(tagger, lines, options, lambda _, text: out.write(text))
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
    if Path(output).is_dir():  # every rank sees it: all stop now, not after the tagging
        raise NerError(f"{output}: is a directory, expected a file")
    part = _new_part(Path(output), world.rank)
    sizes = []  # bytes of each chunk this rank wrote, in order

    def add(number: int, text: str) -> None:
        if number == len(sizes):
            sizes.append(0)
        data = text.encode("utf-8")
        sizes[number] += len(data)
        out.write(data)

    try:
        with open(part, "wb") as out:
            tag_lines(tagger, lines, options, add, lambda number: number % world.size == world.rank)
        parts = distributed.gather((str(part), sizes), world)
        if world.is_main:
            atomic_write(output, lambda temp: _join_parts(
                temp, parts, header(options.format, entity_types(tagger)).encode("utf-8"),
                footer(options.format).encode("utf-8")))
        distributed.barrier(world)
    finally:  # an error or a signal on any rank leaves no part file behind
        part.unlink(missing_ok=True)


def _new_part(output: Path, rank: int) -> Path:
    """A new empty file for this rank's part, named after both, never one that was
    already there: beside `output` (so on storage every rank of a multi-machine run
    sees), or in the temporary directory when `output` is a device or a pipe."""
    beside = not output.exists() or output.is_file()
    directory = output.parent if beside else Path(tempfile.gettempdir())
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{output.name}.part{rank}-",
                                            dir=directory)
    except OSError as error:
        raise NerError(f"{output}: cannot write a part file in {directory} "
                       f"({error.strerror})") from None
    os.close(descriptor)
    return Path(name)


def _join_parts(target: Path, parts: list[tuple[str, list[int]]], head: bytes,
                tail: bytes) -> None:
    """Write `head`, chunk k from part k % N for k = 0, 1, 2, ... (one chunk in memory at
    a time), then `tail` into `target`. parts: each rank's (part file, chunk sizes)."""
    with ExitStack() as stack, open(target, "wb") as out:
        files = [stack.enter_context(open(name, "rb")) for name, _ in parts]
        sizes = [chunk_sizes for _, chunk_sizes in parts]
        out.write(head)
        for number in range(sum(len(s) for s in sizes)):
            rank, index = number % len(sizes), number // len(sizes)
            out.write(files[rank].read(sizes[rank][index]))
        out.write(tail)
