"""The model directory: everything needed to rebuild a trained tagger, and nothing pickled.

    config.yaml     the resolved config (data.scheme is the scheme of the training data)
    vocab.json      word, character and label vocabularies
    weights.pt      the network's state_dict, loaded with weights_only=True
    metrics.jsonl   one JSON object per epoch, then a final summary
    meta.json       format version, the ner_rnn version that wrote it, and for an
                    ensemble (`ner-rnn ensemble`) its number of members
    last.pt         checkpoint after the latest epoch, for `train --resume`
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import re
import stat
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import yaml

from ner_rnn import __version__
from ner_rnn.config import SCHEMES, Config, from_dict, parse_yaml, to_dict
from ner_rnn.data.schemes import foreign_labels, is_valid_tag
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import ConfigError, ModelError, excerpt, shorten
from ner_rnn.files import atomic_write, atomic_write_text
from ner_rnn.model.convert import convert_encoder
from ner_rnn.model.ensemble import EnsembleNetwork
from ner_rnn.model.network import TaggerNetwork, build_network

FORMAT_VERSION = 1
MAX_MEMBERS = 64  # of an ensemble (meta.json's "members"; 1, or absent, for one tagger)
CONFIG, VOCAB, WEIGHTS, METRICS, META, CHECKPOINT = (
    "config.yaml", "vocab.json", "weights.pt", "metrics.jsonl", "meta.json", "last.pt")
MODEL_FILES = frozenset((CONFIG, VOCAB, WEIGHTS, METRICS, META, CHECKPOINT))


def is_model(directory: str | Path) -> bool:
    """True when `directory` holds every file a model needs (a lone meta.json is no model)."""
    return all((Path(directory) / name).is_file() for name in (META, CONFIG, VOCAB, WEIGHTS))


def save_description(directory: Path, config: Config, vocabs: Vocabularies,
                     members: int = 1) -> None:
    """Write config, vocabularies and format version (all but weights and metrics);
    `members`: of an ensemble."""
    atomic_write_text(directory / CONFIG, yaml.safe_dump(to_dict(config), sort_keys=False))
    atomic_write_text(directory / VOCAB, json.dumps(vocabs.to_json(), ensure_ascii=False))
    meta = {"format_version": FORMAT_VERSION, "ner_rnn_version": __version__}
    if members > 1:
        meta["members"] = members
    atomic_write_text(directory / META, json.dumps(meta, indent=2) + "\n")


def save_weights(directory: Path, network: TaggerNetwork | EnsembleNetwork) -> None:
    state = {name: tensor.detach().cpu() for name, tensor in network.state_dict().items()}
    atomic_write(directory / WEIGHTS, lambda temp: _save_tensors(state, temp))


def save_checkpoint(directory: Path, checkpoint: dict) -> None:
    atomic_write(directory / CHECKPOINT, lambda temp: _save_tensors(checkpoint, temp))


def _save_tensors(value: dict, path: Path) -> None:
    """torch.save, whose write failures (a full disk) are RuntimeErrors: made OSErrors, so
    they are reported like any other failed write."""
    try:
        torch.save(value, path)
    except RuntimeError:  # its message names C++ internals, not the cause
        raise OSError(errno.EIO, "write failed; is the disk full?") from None


def load_checkpoint(directory: Path, network: TaggerNetwork) -> dict:
    """The `last.pt` checkpoint of `network`'s run: tensors and plain values only, never
    objects; its network weights checked against `network`, its other entries' types."""
    path = directory / CHECKPOINT
    if not path.is_file():
        raise ModelError(f"{directory}: no {CHECKPOINT} checkpoint to resume from")
    checkpoint = _safe_load(path)
    expected = {"network": dict, "optimizer": dict, "numpy_rng": dict,
                "torch_rng": torch.Tensor, "python_rng": (list, tuple), "progress": dict}
    if not isinstance(checkpoint, dict) or not set(expected) <= set(checkpoint):
        raise ModelError(f"{path}: incomplete checkpoint, expected {', '.join(sorted(expected))}")
    for key, kind in expected.items():
        if not isinstance(checkpoint[key], kind):
            raise ModelError(f"{path}: malformed checkpoint, {key} is a "
                             f"{type(checkpoint[key]).__name__}")
    _check_weights(path, checkpoint["network"], network)
    progress = checkpoint["progress"]
    if not all(isinstance(v, list) if k == "records" else type(v) in (int, float)
               for k, v in progress.items()):
        raise ModelError(f"{path}: malformed checkpoint, progress {excerpt(progress)}")
    return checkpoint


def load_weights(directory: Path, network: TaggerNetwork) -> dict:
    """The saved best weights, checked against `network`."""
    state = _read_weights(directory / WEIGHTS)
    _check_weights(directory / WEIGHTS, state, network)
    return state


def save_metrics(directory: Path, records: list[dict]) -> None:
    atomic_write_text(directory / METRICS, "".join(json.dumps(r) + "\n" for r in records))


def load_model(directory: str | Path, implementation: str | None = None
               ) -> tuple[Config, Vocabularies, TaggerNetwork]:
    """Rebuild config, vocabularies and network from a model directory (on the CPU).

    `implementation` (`torch` or `native`) runs the encoder with that implementation
    whichever one trained it; the weights are converted, the predictions stay the same.
    """
    directory = Path(directory)
    if not _is(directory, stat.S_ISDIR):
        raise ModelError(f"{directory}: no such model directory")
    missing = [name for name in (META, CONFIG, VOCAB, WEIGHTS)
               if not _is(directory / name, stat.S_ISREG)]
    if missing:
        raise ModelError(f"{directory}: incomplete model directory, missing {', '.join(missing)}")
    meta = _read_json(directory / META)
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        found = meta.get("format_version") if isinstance(meta, dict) else None
        raise ModelError(f"{directory / META}: model format version {excerpt(found)}, this "
                         f"ner_rnn ({__version__}) reads version {FORMAT_VERSION}")
    members = meta.get("members", 1)
    if type(members) is not int or not 1 <= members <= MAX_MEMBERS:
        raise ModelError(f"{directory / META}: members: expected a number from 1 to "
                         f"{MAX_MEMBERS}, got {excerpt(members)}")
    config = _read_config(directory / CONFIG)
    vocabs = _read_vocabularies(directory / VOCAB, config.model.scheme)
    state = _read_weights(directory / WEIGHTS)
    try:  # sizes first, on the meta device: an edited config never allocates its network
        with torch.device("meta"):
            skeleton = _build(config, vocabs, members)
    except ConfigError as error:
        raise ModelError(f"{directory / CONFIG}: {error}") from None
    _check_weights(directory / WEIGHTS, state, skeleton)
    encoder = config.model.encoder
    if implementation is not None and implementation != encoder.implementation:
        state = _convert_members(state, encoder.type, implementation, members)
        encoder = replace(encoder, implementation=implementation)
        config = replace(config, model=replace(config.model, encoder=encoder))
    network = _build(config, vocabs, members)
    network.load_state_dict(state)
    network.eval()
    return config, vocabs, network


def _build(config: Config, vocabs: Vocabularies, members: int
           ) -> TaggerNetwork | EnsembleNetwork:
    """The network of a model directory: one tagger, or an ensemble of `members`."""
    if members == 1:
        return build_network(config, vocabs)
    return EnsembleNetwork([build_network(config, vocabs) for _ in range(members)])


def _convert_members(state: dict, kind: str, implementation: str, members: int) -> dict:
    """`convert_encoder` applied to each member's weights (`members.I.` prefixes)."""
    if members == 1:
        return convert_encoder(state, kind, implementation)
    converted = {}
    for index in range(members):
        prefix = f"members.{index}."
        own = {name[len(prefix):]: t for name, t in state.items() if name.startswith(prefix)}
        converted.update({prefix + name: t for name, t in
                          convert_encoder(own, kind, implementation).items()})
    return converted


def _is(path: Path, kind: Callable[[int], bool]) -> bool:
    """Whether `path` exists and `kind(mode)` holds (stat.S_ISDIR, stat.S_ISREG); a
    directory we may not search (mode 000) is one error line naming the path, on every
    Python (Path.is_dir hides it as False from 3.13 on)."""
    try:
        return kind(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as error:
        raise ModelError(f"{path}: cannot read ({error.strerror})") from None


def _check_readable(path: Path) -> None:
    """An unreadable model file (no permission) is named as such, not as a damaged one."""
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise ModelError(f"{path}: cannot read ({error.strerror})") from None


def _read_config(path: Path) -> Config:
    """The saved config; data.scheme must be resolved (the training data's scheme)."""
    _check_readable(path)
    try:
        tree = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        if not isinstance(tree, dict):
            raise ConfigError(f"{path}: expected a mapping of config keys")
        config = from_dict(tree)
    except UnicodeDecodeError:
        raise ModelError(f"{path}: not valid UTF-8") from None
    except ConfigError as error:
        where = "" if str(error).startswith(str(path)) else f"{path}: "
        raise ModelError(f"{where}{error}") from None
    if config.data.scheme not in SCHEMES:
        raise ModelError(f"{path}: data.scheme: expected the training data's scheme "
                         f"({', '.join(SCHEMES)}), got {config.data.scheme!r}")
    return config


def _read_vocabularies(path: Path, scheme: str) -> Vocabularies:
    """The saved vocabularies, their labels tags of the model's `scheme`."""
    data = _read_json(path)
    lists = ("words", "chars", "labels")
    if not isinstance(data, dict) or not all(
            isinstance(data.get(key), list) and all(isinstance(item, str) for item in data[key])
            for key in lists):
        raise ModelError(f"{path}: malformed vocabularies, expected lists of strings "
                         f"{', '.join(lists)}")
    bad = [label for label in data["labels"] if not is_valid_tag(label)]
    if bad or not data["labels"]:
        raise ModelError(f"{path}: malformed vocabularies, labels must be tags like B-PER, "
                         f"got {excerpt(bad or data['labels'])}")
    foreign = foreign_labels(data["labels"], scheme)
    if foreign:
        raise ModelError(f"{path}: labels {excerpt(foreign)} are not tags of the model's "
                         f"scheme ({CONFIG}: model.scheme: {scheme})")
    try:
        return Vocabularies.from_json(data)
    except ValueError as error:
        raise ModelError(f"{path}: malformed vocabularies, {shorten(str(error))}") from None
    except (KeyError, TypeError) as error:
        raise ModelError(f"{path}: malformed vocabularies ({excerpt(error)})") from None


def _read_json(path: Path):
    _check_readable(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: not valid JSON ({shorten(str(error))})") from None
    except RecursionError:
        raise ModelError(f"{path}: not valid JSON (nested too deeply)") from None


def _safe_load(path: Path):
    """torch.load restricted to tensors and plain values: a pickle that would build other
    objects (and so could run code) is refused before anything in it runs. A file that is
    not the zip archive torch.save writes never reaches torch: an empty or truncated one
    is named as such, a bare pickle is refused unread."""
    _check_torch_archive(path)
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles; we refuse them
            warnings.simplefilter("ignore")
            return _torch_load(path)
    except pickle.UnpicklingError as error:  # the weights-only unpickler said no
        _check_pickle_checksum(path)  # to bytes damaged in the file, or to what they build?
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
        told = re.search(r"WeightsUnpickler error:\s*([^\n]+)", str(error))
        reason = (f"it would build {found.group(1)}" if found else
                  shorten(told.group(1)) if told else "UnpicklingError")
        raise _refusal(path, reason) from None
    except Exception as error:  # noqa: BLE001 (a damaged archive fails anywhere in torch)
        detail = str(error).split(". ")[0].split("\n")[0] or type(error).__name__
        raise ModelError(f"{path}: truncated or not a torch file ({shorten(detail)})") from None


def _check_torch_archive(path: Path) -> None:
    """torch.save writes a zip archive, whose directory is at its end: a file cut short
    has lost it. A bare pickle (first byte 0x80) is refused; an unreadable file is named
    as such, not as a damaged one."""
    try:
        with open(path, "rb") as file:
            first = file.read(4)
            archive = first == b"PK\x03\x04" and zipfile.is_zipfile(file)  # as torch checks
    except OSError as error:
        raise ModelError(f"{path}: cannot read ({error.strerror})") from None
    if archive:
        return
    if first[:1] == b"\x80":
        raise _refusal(path, "a bare pickle, not the zip archive torch.save writes")
    detail = "empty" if not first else "not the zip archive torch.save writes"
    raise ModelError(f"{path}: truncated or not a torch file ({detail})")


def _check_pickle_checksum(path: Path) -> None:
    """The archive's pickle (`<name>/data.pkl`, a few kilobytes) against the CRC-32 the
    archive holds for it: bytes damaged after writing are not a foreign pickle."""
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith("/data.pkl"):
                    archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ModelError(f"{path}: truncated or not a torch file (damaged: "
                         f"{shorten(str(error))})") from None


def _refusal(path: Path, reason: str) -> ModelError:
    return ModelError(f"{path}: refused to load, not a plain file of tensors ({reason}); "
                      "never load model files from untrusted sources with pickle")


def _torch_load(path: Path):
    """torch.load of tensors and plain values, memory-mapped where torch can map the path:
    tensors are then read when used, so shapes are checked before any big read."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:  # torch maps only UTF-8 paths: read the file through Python
        with open(path, "rb") as file:
            return torch.load(file, map_location="cpu", weights_only=True)
    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)


def _read_weights(path: Path) -> dict:
    """Load a state_dict without unpickling objects: tensors only, nothing executed."""
    state = _safe_load(path)
    if not isinstance(state, dict):
        raise ModelError(f"{path}: expected a state_dict (a mapping of names to tensors)")
    return state


def _check_weights(path: Path, state: dict, network: TaggerNetwork) -> None:
    """Every expected tensor present, dense and finite, with the expected shape, and
    nothing else; `network` may live on the meta device (shapes without memory)."""
    expected = network.state_dict()
    if set(state) != set(expected):
        absent = sorted(set(expected) - set(state))
        extra = sorted(map(str, set(state) - set(expected)))
        raise ModelError(f"{path}: weights do not match {CONFIG} (missing: "
                         f"{excerpt(absent[:3])}, unexpected: {excerpt(extra[:3])})")
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or tensor.shape != expected[name].shape:
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor)
            raise ModelError(f"{path}: weights do not match {CONFIG}: {name} has shape "
                             f"{shape}, expected {tuple(expected[name].shape)}")
    for name, tensor in state.items():
        if tensor.layout != torch.strided or not tensor.is_floating_point():
            raise ModelError(f"{path}: {name} is not a dense floating-point tensor")
        if not torch.isfinite(tensor).all():
            raise ModelError(f"{path}: {name} holds NaN or infinite values")
