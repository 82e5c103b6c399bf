"""Tagging with an exported graph (`ner-rnn export`) through onnxruntime: our tokeniser,
batches and output formats, the graph in place of the network. The graph returns the
best path of each sentence and no scores, so it gives neither k best paths nor
confidences."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from ner_rnn.config import Config
from ner_rnn.data.batching import Batch
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import ModelError


def is_export(path: str | Path) -> bool:
    """Whether `--model path` names an exported graph rather than a model directory: a
    file, or a path ending in .onnx (which, missing, is reported as a missing file)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return Path(path).suffix == ".onnx"


def load_export(path: str | Path, threads: int | None = None
                ) -> tuple[Config, Vocabularies, OnnxBackend]:
    """The config, vocabularies and backend of the export at `path` (as `load_model`
    gives a model directory's); `threads`: onnxruntime's (see `read_export`)."""
    from ner_rnn.export.reading import export_parts, read_export  # the exporters: on use

    session, description = read_export(path, threads)
    config, vocabs = export_parts(path, description)
    return config, vocabs, OnnxBackend(session, description["inputs"], str(path),
                                       len(vocabs.labels.items))


_ALLOCATION_FAILED = "Failed to allocate memory"  # onnxruntime's allocator, out of memory


class OnnxBackend:
    """An exported tagger graph in an onnxruntime session on the CPU; `labels`: how many
    tags its FILE.vocab.json names (the ids the graph may return)."""

    def __init__(self, session, inputs: list[str], source: str, labels: int):
        self.session, self.inputs, self.source, self.labels = session, inputs, source, labels

    def refuse_scores(self, nbest: int, confidence: bool) -> None:
        """The graph gives the best path only: no k best paths, no confidences."""
        if nbest > 1 or confidence:
            raise ValueError(f"{self.source}: an exported model gives the best tags only, "
                             "without nbest or confidence; use the model directory")

    def best(self, batch: Batch) -> np.ndarray:
        """int64 (batch, time): each sentence's best tag ids, 0 on padding. A graph that
        fails, or returns ids its vocabularies lack, is a ModelError naming the file (a
        FILE.vocab.json made for another graph, with the recorded hash put in)."""
        from ner_rnn.export.reading import onnxruntime_detail

        try:
            tags = self.session.run(None, self.feeds(batch))[0]  # (batch, time)
        except MemoryError:
            raise
        except Exception as error:  # noqa: BLE001 (onnxruntime's run errors have no common type)
            if _ALLOCATION_FAILED in str(error):  # out of memory, not a wrong graph
                raise MemoryError(str(error)) from None
            raise ModelError(f"{self.source}: the graph failed ({onnxruntime_detail(error)}); "
                             "are the graph and its .vocab.json one export?") from None
        wrong = tags[(tags < 0) | (tags >= self.labels)]  # (wrong ids,)
        if wrong.size:
            raise ModelError(f"{self.source}: the graph gave tag id {wrong[0]}, its "
                             f".vocab.json names {self.labels} labels; are they one export?")
        return tags

    def feeds(self, batch: Batch) -> dict[str, np.ndarray]:
        """The graph's inputs (see `ner_rnn.export.files`) from a collated batch."""
        rows, sentences = batch.rows, batch.sentences
        tensors = {"words": rows.words, "casing": rows.casing, "chars": rows.chars,
                   "spelling": rows.spelling, "lengths": rows.lengths,
                   "positions": sentences.positions, "sentence_lengths": sentences.lengths}
        return {name: tensors[name].numpy() for name in self.inputs}
