"""Typed configuration: defaults -> YAML -> `--set` overrides -> validation, in one place.

Every key has a default and a comment here; this file is the config reference. Paths are
read relative to the current working directory.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ner_rnn.errors import ConfigError

SCHEMES = ("iob1", "iob2", "bioes")


def _key(default: Any, choices: tuple | None = None, minimum: float | None = None,
         above: float | None = None, below: float | None = None) -> Any:
    """A config field with its validation rules kept next to its default."""
    rules = {"choices": choices, "minimum": minimum, "above": above, "below": below}
    return field(default=default, metadata=rules)


@dataclass
class DataConfig:
    train: str | None = None  # CoNLL file to train on (needed by `train`)
    dev: str | None = None  # CoNLL file for model selection and early stopping
    test: str | None = None  # CoNLL file scored once with the best model after training
    tag_column: int = -1  # column holding the tag; -1 is the last, 0 would be the token
    scheme: str = _key("auto", choices=("auto",) + SCHEMES)  # tag scheme of the files


@dataclass
class WordEmbeddingConfig:
    dim: int = _key(100, minimum=1)  # size of each word vector
    min_freq: int = _key(1, minimum=1)  # words seen fewer times in train become <unk>
    lowercase: bool = False  # look words up lowercased
    normalize_digits: bool = True  # map every digit to 0 before lookup ("1996" -> "0000")
    singleton_unk: float = _key(0.0, minimum=0.0, below=1.0)  # p of training a word seen once as <unk>


@dataclass
class CharConfig:
    type: str | None = _key(None, choices=("cnn", "lstm"))  # cnn (Ma & Hovy), lstm (Lample)
    dim: int = _key(25, minimum=1)  # size of each character vector
    filters: int = _key(50, minimum=1)  # CNN output features per word
    hidden_size: int = _key(25, minimum=1)  # char BiLSTM units per direction
    width: int = _key(3, minimum=1)  # CNN window in characters (odd keeps words centred)
    max_length: int = _key(30, minimum=1)  # characters read per word (its first ones)


@dataclass
class EmbeddingsConfig:
    word: WordEmbeddingConfig = field(default_factory=WordEmbeddingConfig)
    char: CharConfig = field(default_factory=CharConfig)
    casing_dim: int | None = _key(None, minimum=1)  # size of the casing-class vector; null: off
    pretrained: str | None = None  # GloVe/word2vec/fastText text file (.gz too) for word vectors
    freeze: bool = False  # keep pretrained word vectors fixed during training
    add_pretrained_words: bool = False  # also give dev/test words found in `pretrained` a vector
    dropout: float = _key(0.5, minimum=0.0, below=1.0)  # dropout on the embedded input


@dataclass
class EncoderConfig:
    type: str = _key("lstm", choices=("rnn", "gru", "lstm"))  # recurrent cell
    hidden_size: int = _key(100, minimum=1)  # units per direction
    num_layers: int = _key(1, minimum=1)  # stacked recurrent layers
    bidirectional: bool = True  # also read each sentence right to left
    dropout: float = _key(0.0, minimum=0.0, below=1.0)  # between stacked layers
    activation: str = _key("tanh", choices=("tanh", "relu"))  # for type rnn only
    implementation: str = _key("torch", choices=("torch", "native"))  # fused kernels or cells


@dataclass
class HeadConfig:
    type: str = _key("softmax", choices=("softmax", "crf"))  # per-token softmax or linear CRF
    constrain: bool = True  # forbid transitions the tag scheme does not allow, when decoding


@dataclass
class ModelConfig:
    scheme: str = _key("bioes", choices=SCHEMES)  # tag scheme the model predicts in
    embeddings: EmbeddingsConfig = field(default_factory=EmbeddingsConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    dropout: float = _key(0.5, minimum=0.0, below=1.0)  # on encoder outputs, before the head
    locked_dropout: bool = False  # one dropout mask per sentence, shared by all time steps
    document_context: int = _key(0, minimum=0)  # encoder reads windows of up to this many
    # tokens of consecutive sentences of one document; 0: every sentence alone
    head: HeadConfig = field(default_factory=HeadConfig)


@dataclass
class TrainConfig:
    epochs: int = _key(30, minimum=1)  # upper bound on passes over the training data
    batch_size: int = _key(32, minimum=1)  # sentences (or context windows) per training batch
    eval_batch_size: int = _key(256, minimum=1)  # the same when scoring/tagging
    optimizer: str = _key("adam", choices=("sgd", "adam", "adamw"))
    lr: float = _key(0.002, above=0.0)  # initial learning rate
    momentum: float = _key(0.9, minimum=0.0, below=1.0)  # for sgd only
    weight_decay: float = _key(0.0, minimum=0.0)  # L2 penalty (decoupled for adamw)
    lr_decay: float = _key(0.0, minimum=0.0)  # lr of epoch e (from 1): lr / (1 + lr_decay * (e - 1))
    clip_grad_norm: float | None = _key(5.0, above=0.0)  # max gradient norm; null: no clipping
    patience: int | None = _key(5, minimum=1)  # epochs without dev gain before stopping; null: never
    mixed_precision: bool = False  # run embeddings and encoder in bfloat16 (for GPUs)


@dataclass
class Config:
    seed: int = 42  # seeds Python, NumPy and torch: same config and seed, same CPU run
    device: str = _key("cpu", choices=("cpu", "cuda", "auto"))  # auto picks cuda if present
    threads: int | None = _key(None, minimum=1)  # torch CPU threads; null: torch's default
    output_dir: str = "model"  # where `train` writes the model directory (--output-dir wins)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Build a validated Config from defaults, an optional YAML file and KEY=VALUE overrides."""
    tree: dict = {}
    if path is not None:
        tree = read_yaml(path, what="config")
        if tree is None:
            tree = {}
        if not isinstance(tree, dict):
            raise ConfigError(f"{path}: expected a mapping of config keys at the top level")
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {override!r}: expected KEY=VALUE, e.g. train.epochs=3")
        _assign(tree, key.strip(), yaml.safe_load(text) if text.strip() else None)
    return from_dict(tree)


def read_yaml(path: str | Path, what: str) -> Any:
    """Read a YAML file safely; missing files and syntax errors become one-line errors."""
    path = Path(path)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        raise ConfigError(f"{path}: {reason} ({what} file expected)")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: {problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None


def _assign(tree: dict, dotted: str, value: Any) -> None:
    """Set tree[a][b][c] = value for 'a.b.c', checking that the key exists in Config."""
    parts = dotted.split(".")
    cls: type = Config
    node = tree
    for depth, part in enumerate(parts):
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if part not in fields:
            prefix = ".".join(parts[: depth + 1])
            raise ConfigError(f"--set {prefix}: unknown key{_suggest(part, fields)}")
        if depth == len(parts) - 1:
            node[part] = value
            return
        cls = typing.get_type_hints(cls)[part]
        if not dataclasses.is_dataclass(cls):
            raise ConfigError(f"--set {dotted}: {'.'.join(parts[:depth + 1])} has no sub-keys")
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]


def from_dict(tree: dict, cls: type = Config, prefix: str = "") -> Any:
    """Turn a nested dict into dataclass `cls`, rejecting unknown keys and bad values."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in tree:
        if key not in fields:
            raise ConfigError(f"{prefix}{key}: unknown key{_suggest(str(key), fields)}")
    values = {}
    for name, spec in fields.items():
        dotted = f"{prefix}{name}"
        if name not in tree:
            continue
        value, hint = tree[name], hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted}: expected a mapping of sub-keys, got {value!r}")
            values[name] = from_dict(value, hint, dotted + ".")
        else:
            values[name] = _check_value(dotted, value, hint, spec.metadata)
    return cls(**values)


def to_dict(config: Any) -> dict:
    """The resolved config as plain data, ready for YAML."""
    return dataclasses.asdict(config)


def _check_value(dotted: str, value: Any, hint: Any, rules: Any) -> Any:
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    allowed = typing.get_args(hint) if is_union else (hint,)
    if value is None:
        if type(None) in allowed:
            return None
        raise ConfigError(f"{dotted}: expected {_describe(allowed)}, got null")
    base = next(t for t in allowed if t is not type(None))
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if base is int and isinstance(value, bool) or not isinstance(value, base):
        raise ConfigError(f"{dotted}: expected {_describe(allowed)}, got {value!r}")
    choices = rules.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{dotted}: expected one of {', '.join(choices)}, got {value!r}")
    if rules.get("minimum") is not None and value < rules["minimum"]:
        raise ConfigError(f"{dotted}: expected a value >= {rules['minimum']}, got {value!r}")
    if rules.get("above") is not None and value <= rules["above"]:
        raise ConfigError(f"{dotted}: expected a value > {rules['above']}, got {value!r}")
    if rules.get("below") is not None and value >= rules["below"]:
        raise ConfigError(f"{dotted}: expected a value < {rules['below']}, got {value!r}")
    return value


_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _describe(allowed: tuple) -> str:
    names = [_TYPE_NAMES.get(t, "null") for t in allowed]
    return " or ".join(names)


def _suggest(key: str, fields: dict) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]}?"
    return f"; valid keys: {', '.join(fields)}"
