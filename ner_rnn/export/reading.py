"""Reading back what `ner-rnn export --format onnx` wrote: the graph as an onnxruntime
session, checked to be ours, of this export version, and matched with its FILE.vocab.json
(whose SHA-256 the graph's metadata records). Both are read only when they are regular
files (after symlinks) of at most MAX_GRAPH_BYTES and MAX_VOCAB_BYTES: a FIFO, a device or
an endless file is one error line, not a hang."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path

from ner_rnn import __version__
from ner_rnn.config import SCHEMES, Config, from_dict
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import ConfigError, ModelError, excerpt, shorten
from ner_rnn.export.files import EXPORT_VERSION, VERSION_KEY, VOCAB_HASH_KEY, vocab_path
from ner_rnn.model_dir import MODEL_FILES, is_model

_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")  # onnxruntime's, on each error
MAX_GRAPH_BYTES = 2 << 30  # protobuf's limit: no single-file ONNX model is larger
MAX_VOCAB_BYTES = 1 << 30  # 1 GiB: many times the vocabularies of any real model


def read_export(path: str | Path, threads: int | None = None):
    """(onnxruntime.InferenceSession, FILE.vocab.json's description) of the export at
    `path`; `threads`: the session's intra-op threads (None: onnxruntime's default)."""
    path = Path(path)
    refuse_model_file(path)
    data = _read_bytes(path, "no such file", MAX_GRAPH_BYTES)
    if not data:
        raise ModelError(f"{path}: not an ONNX model (the file is empty)")
    if _is_torch_program(data):
        raise ModelError(f"{path}: a torch.export program (`export --format torch`), which "
                         "tag cannot read; tag reads ONNX exports (`export --format onnx`) "
                         "and model directories")
    try:
        import onnxruntime
    except ImportError:
        raise ModelError(f"{path}: reading an ONNX model needs the onnx extra (onnxruntime "
                         "is missing): pip install 'ner_rnn[onnx]'") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # fatal only: its warnings are about its own kernels,
    # its errors come back as exceptions, each reported as one line
    if threads is not None:
        options.intra_op_num_threads = threads
    try:
        session = onnxruntime.InferenceSession(data, options,
                                               providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 (onnxruntime's parse errors have no common type)
        raise ModelError(f"{path}: not an ONNX model, or a truncated one "
                         f"({onnxruntime_detail(error)})") from None
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
    data = _read_bytes(where, f"missing (`ner-rnn export` writes it beside {path.name})",
                       MAX_VOCAB_BYTES)
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


def refuse_model_file(path: str | Path) -> None:
    """A file of a model directory given for the model is named as such."""
    path = Path(path)
    if path.name in MODEL_FILES and is_model(path.parent):
        raise ModelError(f"{path}: a file of the model directory {path.parent}; give the "
                         "directory itself")


def onnxruntime_detail(error: Exception) -> str:
    """The first line of an onnxruntime error, short and without its prefix."""
    detail = _ORT_PREFIX.sub("", str(error).split("\n")[0]).rstrip(".")
    return shorten(detail or type(error).__name__)


def _is_torch_program(data: bytes) -> bool:
    """Whether `data` is a zip archive as torch.export saves its .pt2 programs."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(name.endswith("/archive_format") for name in names)


def _read_bytes(path: Path, missing: str, limit: int) -> bytes:
    """The bytes of the regular file `path` (symlinks followed), at most `limit` of them.
    Opened without blocking, so that a FIFO is refused rather than waited on."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ModelError(f"{path}: {missing}") from None
    except OSError as error:
        raise ModelError(f"{path}: cannot read ({error.strerror})") from None
    with open(descriptor, "rb") as file:
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise ModelError(f"{path}: not a regular file")
            data = file.read(limit + 1)  # (a file still growing is cut here too)
        except OSError as error:
            raise ModelError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > limit:
        raise ModelError(f"{path}: larger than {limit >> 30} GiB, more than an export "
                         "ever holds")
    return data
