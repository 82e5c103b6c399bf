"""Reading back what `ner-rnn export --format onnx` wrote: the graph as an onnxruntime
session, checked to be ours, of this export version, and matched with its FILE.vocab.json
(whose SHA-256 the graph's metadata records)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ner_rnn import __version__
from ner_rnn.config import SCHEMES, Config, from_dict
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import ConfigError, ModelError, excerpt, shorten
from ner_rnn.export.files import EXPORT_VERSION, VERSION_KEY, VOCAB_HASH_KEY, vocab_path

_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")  # onnxruntime's, on each error


def read_export(path: str | Path, threads: int | None = None):
    """(onnxruntime.InferenceSession, FILE.vocab.json's description) of the export at
    `path`; `threads`: the session's intra-op threads (None: onnxruntime's default)."""
    path = Path(path)
    try:
        import onnxruntime
    except ImportError:
        raise ModelError(f"{path}: reading an ONNX model needs the onnx extra (onnxruntime "
                         "is missing): pip install 'ner_rnn[onnx]'") from None
    data = _read_bytes(path, "no such file")
    if not data:
        raise ModelError(f"{path}: not an ONNX model (the file is empty)")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are about its own kernels
    if threads is not None:
        options.intra_op_num_threads = threads
    try:
        session = onnxruntime.InferenceSession(data, options,
                                               providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 (onnxruntime's parse errors have no common type)
        detail = _ORT_PREFIX.sub("", str(error).split("\n")[0]).rstrip(".") or type(error).__name__
        raise ModelError(f"{path}: not an ONNX model, or a truncated one "
                         f"({shorten(detail)})") from None
    metadata = session.get_modelmeta().custom_metadata_map
    if VERSION_KEY not in metadata or VOCAB_HASH_KEY not in metadata:
        raise ModelError(f"{path}: an ONNX model that `ner-rnn export` did not write (no "
                         f"{VERSION_KEY} in its metadata)")
    if metadata[VERSION_KEY] != str(EXPORT_VERSION):
        raise ModelError(f"{path}: export version {excerpt(metadata[VERSION_KEY])}, this "
                         f"ner_rnn ({__version__}) reads version {EXPORT_VERSION}; export "
                         "the model again")
    description = _read_description(path, metadata[VOCAB_HASH_KEY])
    names = [node.name for node in session.get_inputs()]
    if description["inputs"] != names:
        raise ModelError(f"{vocab_path(path)}: inputs {excerpt(description['inputs'])} are "
                         f"not the graph's {excerpt(names)}")
    return session, description


def export_parts(path: str | Path, description: dict) -> tuple[Config, Vocabularies]:
    """The config and vocabularies an export's description holds."""
    where = vocab_path(path)
    try:
        config = from_dict(description["config"])
    except ConfigError as error:
        raise ModelError(f"{where}: config: {error}") from None
    if config.data.scheme not in SCHEMES:
        raise ModelError(f"{where}: config: data.scheme: expected the training data's "
                         f"scheme ({', '.join(SCHEMES)}), got {excerpt(config.data.scheme)}")
    try:
        vocabs = Vocabularies.from_json(description)
    except ValueError as error:
        raise ModelError(f"{where}: malformed vocabularies, {shorten(str(error))}") from None
    return config, vocabs


def _read_description(path: Path, digest: str) -> dict:
    """FILE.vocab.json, which must be the file the graph was written with."""
    where = vocab_path(path)
    data = _read_bytes(where, f"missing (`ner-rnn export` writes it beside {path.name})")
    if hashlib.sha256(data).hexdigest() != digest:
        raise ModelError(f"{where}: not the vocabularies {path} was exported with (its "
                         "SHA-256 differs from the one the graph records); export again")
    try:
        description = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ModelError(f"{where}: not valid JSON ({shorten(str(error))})") from None
    keys = {"inputs": list, "config": dict, "words": list, "chars": list, "labels": list}
    wrong = [key for key, kind in keys.items()
             if not isinstance(description, dict) or not isinstance(description.get(key), kind)]
    if wrong:
        raise ModelError(f"{where}: malformed, expected {', '.join(wrong)}")
    return description


def _read_bytes(path: Path, missing: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: {missing}") from None
    except OSError as error:
        raise ModelError(f"{path}: cannot read ({error.strerror})") from None
