"""`ner-rnn export`: a model directory as one ONNX file (or a torch.export program) that
decodes inside its graph, with its vocabularies beside it as FILE.vocab.json.

FILE.vocab.json (what a client needs to encode tokens and read tags):
    format, format_version   "ner_rnn-export", EXPORT_VERSION
    ner_rnn_version          the ner_rnn that wrote it
    inputs                   the graph's input names, in order (all int64):
        words, casing        (rows, row time) word and casing ids, 0 on padding
        chars                (spellings, chars) char ids, row 0 all 0 (only with char features)
        spelling             (rows, row time) each token's row of chars, 0 on padding
        lengths              (rows,) tokens per row
        positions            (batch, time) each sentence token's index in the rows
                             flattened to (rows * row time); 0 on padding
        sentence_lengths     (batch,) tokens per sentence, all >= 1
    outputs                  ["tags"]: (batch, time) tag ids, 0 on padding
    words, chars             the vocabularies: id = index; 0 padding, 1 unknown
    lowercase, normalize_digits   how a token is looked up among words (digits -> "0")
    char_max_length          characters of a token read (null: no char features)
    casings                  casing class names, id = index (see data/vocab.py `casing`)
    labels                   tag names, id = index, in `scheme`
    scheme, data_scheme      the labels' scheme and the training data's
    document_context         tokens per encoder row (null: each sentence a row of its own)
    config                   the model's resolved config
Without document context every row is one sentence: positions[b, t] = b * time + t.
The ONNX file's metadata_props, and the .pt2 program's extra files, hold VERSION_KEY
(EXPORT_VERSION) and VOCAB_HASH_KEY (the SHA-256 of FILE.vocab.json's bytes).
The graph computes in float32, also for a model trained with mixed precision.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from ner_rnn import __version__
from ner_rnn.config import to_dict
from ner_rnn.data.vocab import CASINGS
from ner_rnn.errors import NerError, shorten
from ner_rnn.export.graph import TaggerGraph, exportable
from ner_rnn.files import atomic_write_together, names_open_descriptor
from ner_rnn.leftovers import temp_prefix
from ner_rnn.model_dir import load_model

EXPORT_VERSION = 1
FORMATS = ("onnx", "torch")
VERSION_KEY, VOCAB_HASH_KEY = "ner_rnn.export_version", "ner_rnn.vocab_sha256"


def vocab_path(output: str | Path) -> Path:
    return Path(f"{output}.vocab.json")


def export_model(model: str | Path, output: str | Path, format: str = "onnx",
                 overwrite: bool = False) -> None:
    """Write the model directory `model` as `output` and `output`.vocab.json."""
    if format not in FORMATS:
        raise NerError(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}")
    output = Path(output)
    for path in (output, vocab_path(output)):
        check_target(path, overwrite)
    config, vocabs, network = load_model(model)
    chars = config.model.embeddings.char.type is not None
    graph = TaggerGraph(exportable(network, config.model.encoder.implementation), chars).eval()
    description = {
        "format": "ner_rnn-export", "format_version": EXPORT_VERSION,
        "ner_rnn_version": __version__, "inputs": graph.input_names(), "outputs": ["tags"],
        **vocabs.to_json(),
        "char_max_length": config.model.embeddings.char.max_length if chars else None,
        "casings": list(CASINGS), "scheme": config.model.scheme,
        "data_scheme": config.data.scheme,
        "document_context": config.model.document_context, "config": to_dict(config)}
    text = json.dumps(description, ensure_ascii=False, indent=1) + "\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    save = _save_onnx if format == "onnx" else _save_program
    with tracing():
        program = capture(graph)
        atomic_write_together([
            (output, lambda temp: save(graph, program, digest, temp)),
            (vocab_path(output), lambda temp: temp.write_text(text, encoding="utf-8"))])


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse, before the long trace, a `path` the export could not write: one that is
    not a regular file (a directory, a device, a pipe, `/dev/stdout`: an export is two
    files), one already there without `overwrite`, one in no writable directory, or a
    name too long for its directory once its temp file's part is added. A symlink is
    written through: the file it points to is checked, and replaced."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise NerError(f"{path}: cannot write ({error.strerror})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise NerError(f"{path}: is a directory, expected a file")
    if mode is not None and (not stat.S_ISREG(mode) or names_open_descriptor(path)):
        raise NerError(f"{path}: not a regular file; an export is two files (FILE and "
                       "FILE.vocab.json), written to regular files only")
    if mode is not None and not overwrite:
        raise NerError(f"{path}: already exists; pass --overwrite to replace it")
    target = Path(os.path.realpath(path))
    try:
        if not stat.S_ISDIR(os.stat(target.parent).st_mode):
            raise NerError(f"{path}: {target.parent} is not a directory")
        name_max = os.pathconf(target.parent, "PC_NAME_MAX")
    except FileNotFoundError:
        raise NerError(f"{path}: no directory {target.parent}") from None
    except OSError as error:
        raise NerError(f"{path}: cannot write ({error.strerror})") from None
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise NerError(f"{path}: cannot write in {target.parent} (permission denied)")
    spare = name_max - len(os.fsencode(temp_prefix(""))) - len("XXXXXXXX.tmp")
    if len(os.fsencode(target.name)) > spare:
        raise NerError(f"{path}: file name too long ({len(os.fsencode(target.name))} "
                       f"bytes; at most {spare} here)")


def example_inputs(names: list[str]) -> tuple[torch.Tensor, ...]:
    """Inputs to trace with: every dynamic size different and above 1 (a size of 1, or
    two sizes alike, would be fixed into the graph). 3 rows of 8, 6 and 5 tokens hold 4
    sentences of 5, 3, 6 and 5 tokens (the first row two)."""
    lengths = torch.tensor([8, 6, 5])
    sentence_lengths = torch.tensor([5, 3, 6, 5])
    starts = [(0, 0), (0, 5), (1, 0), (2, 0)]  # (row, offset) of each sentence
    positions = torch.zeros(4, 6, dtype=torch.long)  # (batch, time)
    for b, ((row, offset), n) in enumerate(zip(starts, sentence_lengths.tolist())):
        positions[b, :n] = row * 8 + offset + torch.arange(n)
    mask = torch.arange(8)[None, :] < lengths[:, None]  # (rows, row time)
    tokens = int(mask.sum())
    words = torch.zeros(3, 8, dtype=torch.long)
    words[mask] = torch.arange(tokens) % 2 + 1
    spelling = torch.zeros(3, 8, dtype=torch.long)
    spelling[mask] = torch.arange(tokens) % 7 + 1
    chars = torch.zeros(8, 9, dtype=torch.long)  # (1 + 7 spellings, chars)
    for row in range(1, 8):
        chars[row, : row + 1] = 1
    values = {"words": words, "casing": words.clone(), "chars": chars, "spelling": spelling,
              "lengths": lengths, "positions": positions, "sentence_lengths": sentence_lengths}
    return tuple(values[name] for name in names)


def dynamic_shapes(names: list[str]) -> tuple[dict, ...]:
    dim = torch.export.Dim
    rows, row_time, batch, time = dim("rows"), dim("row_time"), dim("batch"), dim("time")
    shapes = {"words": {0: rows, 1: row_time}, "casing": {0: rows, 1: row_time},
              "chars": {0: dim("spellings"), 1: dim("char_width")},
              "spelling": {0: rows, 1: row_time}, "lengths": {0: rows},
              "positions": {0: batch, 1: time}, "sentence_lengths": {0: batch}}
    return tuple(shapes[name] for name in names)


@contextmanager
def tracing() -> Iterator[None]:
    """What both exporters need around them, from the capture to the file written.

    torch's own LSTM and GRU decompositions loop over the time steps in Python, which
    fixes the time axis; the while-loop ones torch.export offers (those the ONNX
    exporter captures with) keep it dynamic, also when the ONNX exporter decomposes
    the program again (outside them, that decomposition runs torch's loop over the
    steps, and the next capture in the process had its time axis fixed).
    Sizes are reasoned about as if above 1 (`backed_size_oblivious`), as the ONNX
    exporter does.

    No logging and no warnings: torch.export, the ONNX exporter and its optimiser
    (onnxscript, onnx_ir) log hundreds of lines about their own work ("Skipping
    constant folding ...") and warn about torch's internals; `export` says one line of
    its own."""
    try:
        from torch.export._patches import (
            register_gru_while_loop_decomposition,
            register_lstm_while_loop_decomposition,
        )
    except ImportError:
        raise NerError(f"export needs a newer torch than {torch.__version__} (one with "
                       "torch.export's while-loop LSTM and GRU)") from None

    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with (warnings.catch_warnings(), register_lstm_while_loop_decomposition(),
              register_gru_while_loop_decomposition()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def capture(graph: TaggerGraph) -> torch.export.ExportedProgram:
    """`graph` as a torch.export program over dynamic batch, time, row and character
    axes (inside `tracing`). Runtime asserts instead of guards: a guard on a size
    (e.g. that a batch is not 1) would fix it, an assert is checked when it runs."""
    names = graph.input_names()
    try:
        with torch.fx.experimental._config.patch(backed_size_oblivious=True):
            return torch.export.export(graph, example_inputs(names),
                                       dynamic_shapes=(dynamic_shapes(names),),
                                       prefer_deferred_runtime_asserts_over_guards=True)
    except Exception as error:  # noqa: BLE001 (the tracer's own failures, as one line)
        raise NerError(f"torch.export cannot trace this model ({shorten(str(error))})"
                       ) from None


def _save_onnx(graph: TaggerGraph, program, digest: str, path: Path) -> None:
    try:
        onnx_program = torch.onnx.export(program, input_names=graph.input_names(),
                                         output_names=["tags"], dynamo=True, verbose=False)
    except ImportError as error:  # onnx or onnxscript missing
        raise NerError(f"--format onnx needs the onnx extra ({error.name} is missing): "
                       "pip install 'ner_rnn[onnx]'") from None
    except Exception as error:  # noqa: BLE001 (the exporter's own failures, as one line)
        raise NerError(f"{path}: the ONNX exporter failed on this model "
                       f"({shorten(str(error))})") from None
    onnx_program.model.metadata_props[VERSION_KEY] = str(EXPORT_VERSION)
    onnx_program.model.metadata_props[VOCAB_HASH_KEY] = digest
    onnx_program.model.producer_name = "ner_rnn"
    onnx_program.save(str(path), external_data=False)


def _save_program(graph: TaggerGraph, program, digest: str, path: Path) -> None:
    extra_files = {VERSION_KEY: str(EXPORT_VERSION), VOCAB_HASH_KEY: digest}
    torch.export.save(_without_size_asserts(program), str(path), extra_files=extra_files)


def _without_size_asserts(program: torch.export.ExportedProgram
                          ) -> torch.export.ExportedProgram:
    """`program` without the runtime asserts on sizes that tracing left (e.g. that a
    batch or a row is not of one token: the tracer assumes it of every size it reasons
    about, not that the graph needs it), as the ONNX exporter drops them from its graph.
    The tests run both on batches of one sentence of one token."""
    asserts = {torch.ops.aten._assert_scalar.default,
               torch.ops.aten._assert_tensor_metadata.default,
               torch.ops.aten.sym_constrain_range_for_size.default}
    for module in program.graph_module.modules():
        if not isinstance(module, torch.fx.GraphModule):
            continue
        for node in list(module.graph.nodes):
            if node.op == "call_function" and node.target in asserts:
                module.graph.erase_node(node)
        module.graph.eliminate_dead_code()
        module.recompile()
    return program
