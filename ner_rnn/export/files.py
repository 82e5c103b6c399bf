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
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path

import torch

from ner_rnn import __version__
from ner_rnn.config import to_dict
from ner_rnn.data.vocab import CASINGS
from ner_rnn.errors import NerError, shorten
from ner_rnn.export.graph import TaggerGraph, exportable
from ner_rnn.files import atomic_write, atomic_write_text
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
        if path.exists() and not overwrite:
            raise NerError(f"{path}: already exists; pass --overwrite to replace it")
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
    inputs = example_inputs(graph.input_names())
    dynamic = (dynamic_shapes(graph.input_names()),)  # forward(*inputs): one tuple
    save = _save_onnx if format == "onnx" else _save_program
    with warnings.catch_warnings():  # the exporters warn about torch's own internals
        warnings.simplefilter("ignore")
        atomic_write(output, lambda temp: save(graph, inputs, dynamic, digest, temp))
    atomic_write_text(vocab_path(output), text)


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


def _save_onnx(graph: TaggerGraph, inputs, dynamic, digest: str, path: Path) -> None:
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    try:
        program = torch.onnx.export(graph, inputs, input_names=graph.input_names(),
                                    output_names=["tags"], dynamic_shapes=dynamic,
                                    dynamo=True, verbose=False)
    except ImportError as error:  # onnx or onnxscript missing
        raise NerError(f"--format onnx needs the onnx extra ({error.name} is missing): "
                       "pip install 'ner_rnn[onnx]'") from None
    except Exception as error:  # noqa: BLE001 (the exporter's own failures, as one line)
        raise NerError(f"{path}: the ONNX exporter failed on this model "
                       f"({shorten(str(error))})") from None
    program.model.metadata_props[VERSION_KEY] = str(EXPORT_VERSION)
    program.model.metadata_props[VOCAB_HASH_KEY] = digest
    program.model.producer_name = "ner_rnn"
    program.save(str(path), external_data=False)


def _save_program(graph: TaggerGraph, inputs, dynamic, digest: str, path: Path) -> None:
    try:
        program = torch.export.export(graph, inputs, dynamic_shapes=dynamic)
    except Exception as error:  # noqa: BLE001 (known: it over-constrains rows and row time)
        raise NerError(f"--format torch: torch.export cannot trace this model yet "
                       f"({type(error).__name__}); use --format onnx") from None
    torch.export.save(program, str(path))

