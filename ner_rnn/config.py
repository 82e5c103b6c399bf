"""Typed configuration: defaults -> YAML -> `--set` overrides -> validation, in one place.

Every key has a default and a comment here; this file is the config reference. Paths are
read relative to the current working directory.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ner_rnn.errors import ConfigError, excerpt, shorten

SCHEMES = ("iob1", "iob2", "bioes")
CORPUS_FORMATS = ("auto", "conll", "jsonl", "labelstudio")
OFFSET_UNITS = ("codepoints", "utf16")
# A config is a few dozen YAML nodes; a document whose aliases expand past this many is
# an alias bomb ("billion laughs"), refused before anything is built from it.
MAX_YAML_NODES = 100_000
MAX_YAML_BYTES = 1 << 20  # nor is a config a megabyte: a longer file (/dev/zero) is not read on
# Every float key ends up in float32 arithmetic (torch turns `lr` into a float32 scalar); a
# larger value would overflow there with a RuntimeError deep in the optimiser.
FLOAT32_MAX = 3.4028234663852886e38


def _key(default: Any, choices: tuple | None = None, minimum: float | None = None,
         above: float | None = None, below: float | None = None,
         maximum: float | None = None, null_alias: int | None = None) -> Any:
    """A config field with its validation rules kept next to its default; `null_alias`
    is a value read as null (how older configs and model directories said "off")."""
    rules = {"choices": choices, "minimum": minimum, "above": above, "below": below,
             "maximum": maximum, "null_alias": null_alias}
    return field(default=default, metadata=rules)


@dataclass
class DataConfig:
    train: str | None = None  # corpus file to train on (needed by `train`)
    dev: str | None = None  # corpus file for model selection and early stopping
    test: str | None = None  # corpus file scored once with the best model after training
    tag_column: int = -1  # column holding the tag; -1 is the last, 0 would be the token
    scheme: str = _key("auto", choices=("auto",) + SCHEMES)  # tag scheme of the files
    format: str = _key("auto", choices=CORPUS_FORMATS)  # corpus files' format; auto: by
    # extension (.conll, .jsonl, .json), else by the first byte ({: jsonl, [: labelstudio)
    misaligned: str = _key("error", choices=("error", "expand", "skip"))  # a JSONL entity
    # not on token boundaries: stop, widen it to the tokens it touches, or drop it
    overlapping: str = _key("error", choices=("error", "skip"))  # overlapping or nested
    # JSONL entities: stop, or keep the first (longest) and drop those it overlaps
    offsets: str = _key("codepoints", choices=OFFSET_UNITS)  # what JSONL offsets count:
    # Python string indices (code points) or UTF-16 units (JavaScript tools)


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
    num_layers: int = _key(1, minimum=1, maximum=100)  # stacked recurrent layers
    bidirectional: bool = True  # also read each sentence right to left
    dropout: float = _key(0.0, minimum=0.0, below=1.0)  # between stacked layers
    activation: str = _key("tanh", choices=("tanh", "relu"))  # for type rnn only
    implementation: str = _key("torch", choices=("torch", "native"))  # fused kernels or cells


@dataclass
class HeadConfig:
    type: str = _key("softmax", choices=("softmax", "crf"))  # per-token softmax or linear CRF
    constrain: bool = True  # forbid transitions the tag scheme does not allow: in decoding,
    # and for the CRF also in training (the penalties are part of its transition scores,
    # so its log Z sums over well-formed sequences only)
    partition: str = _key("auto", choices=("auto", "recursion", "tree"))  # how log Z is
    # computed: the forward recursion over time (least work: CPUs), or a tree of log-space
    # matrix products (log2(time) steps: GPUs); auto: by device, resolved when training
    # starts and saved, so a model trains the same wherever it is resumed


@dataclass
class ModelConfig:
    scheme: str = _key("bioes", choices=SCHEMES)  # tag scheme the model predicts in
    embeddings: EmbeddingsConfig = field(default_factory=EmbeddingsConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    dropout: float = _key(0.5, minimum=0.0, below=1.0)  # on encoder outputs, before the head
    locked_dropout: bool = False  # one dropout mask per sentence, shared by all time steps
    document_context: int | None = _key(None, minimum=1, null_alias=0)  # encoder reads
    # windows of up to this many tokens of consecutive sentences of one document; null:
    # every sentence alone (0, as configs and models before null meant it, is read as null)
    head: HeadConfig = field(default_factory=HeadConfig)


@dataclass
class TrainConfig:
    epochs: int = _key(30, minimum=1)  # upper bound on passes over the training data
    batch_size: int = _key(32, minimum=1)  # sentences (or context windows) per training batch
    eval_batch_size: int = _key(256, minimum=1)  # the same when scoring (`tag`: --batch-size)
    optimizer: str = _key("adam", choices=("sgd", "adam", "adamw"))
    lr: float = _key(0.002, above=0.0)  # initial learning rate
    momentum: float = _key(0.9, minimum=0.0, below=1.0)  # for sgd only
    weight_decay: float = _key(0.0, minimum=0.0)  # L2 penalty (decoupled for adamw)
    lr_decay: float = _key(0.0, minimum=0.0)  # lr of epoch e (from 1): lr / (1 + lr_decay * (e - 1))
    clip_grad_norm: float | None = _key(5.0, above=0.0)  # max gradient norm; null: no clipping
    patience: int | None = _key(5, minimum=1)  # epochs without dev gain before stopping; null: never
    mixed_precision: bool = False  # run embeddings and encoder in bfloat16 (for GPUs)
    embedding_gradients: str = _key("auto", choices=("auto", "sparse", "dense"))  # word
    # vectors' gradients: sparse (only a batch's rows, lazy Adam: CPUs) or dense (one fused
    # step, weight decay on every row: GPUs); auto: by device, resolved and saved as above
    augment_casing: float = _key(0.0, minimum=0.0, maximum=1.0)  # share of the training
    # documents trained on again with their tokens lower-, upper- or titlecased


@dataclass
class Config:
    seed: int = _key(42, minimum=0, below=2**32)  # seeds Python, NumPy and torch: same
    # config and seed, same CPU run (NumPy takes seeds in [0, 2**32))
    device: str = _key("cpu", choices=("cpu", "cuda", "auto"))  # auto picks cuda if present
    threads: int | None = _key(None, minimum=1, maximum=1024)  # torch CPU threads; null:
    # torch's default
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
            raise ConfigError(f"--set {excerpt(override)}: expected KEY=VALUE, "
                              "e.g. train.epochs=3")
        value = parse_yaml(text, f"--set {shorten(key.strip())}") if text.strip() else None
        _assign(tree, key.strip().split("."), value)
    return from_dict(tree)


def read_yaml(path: str | Path, what: str) -> Any:
    """Read a YAML file safely; missing files and syntax errors become one-line errors."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory ({what} file expected)")
    try:
        with open(path, "rb") as file:  # a pipe or /dev/stdin works too
            data = file.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file ({what} file expected)") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_YAML_BYTES:,} bytes; refused "
                          f"({what} file expected)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, where: str) -> Any:
    """`yaml.safe_load(text)`, refusing documents that expand past MAX_YAML_NODES nodes
    or nest too deeply; every problem is one ConfigError starting with `where`."""
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark and not where.startswith("--set") else ""
        problem = getattr(error, "problem", None) or str(error).split("\n")[0] or "invalid YAML"
        raise ConfigError(f"{where}{line}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{where}: YAML nested too deeply") from None
    except ValueError as error:  # e.g. an integer of 5,000 digits, a date 2001-13-45
        raise ConfigError(f"{where}: unreadable value ({shorten(str(error))})") from None


class _BoundedLoader(yaml.SafeLoader):
    """yaml.safe_load's loader, refusing an absurdly large document before building it,
    and a mapping that gives one key twice (a second `train:` block would silently
    replace the first)."""

    def compose_mapping_node(self, anchor: str | None) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], yaml.Node] = {}
        for key, _ in node.value:  # as written: merges (`<<`) are not expanded yet
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            first = seen.setdefault((key.tag, key.value), key)
            if first is not key:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {excerpt(key.value)} (first given on line "
                    f"{first.start_mark.line + 1})", key.start_mark)
        return node

    def construct_document(self, node: yaml.Node) -> Any:
        size = _expanded_size(node)
        if size is None:
            raise yaml.YAMLError("an alias refers to a node that contains it")
        if size > MAX_YAML_NODES:
            raise yaml.YAMLError(f"aliases expand the document past {MAX_YAML_NODES:,} "
                                 "nodes; refused (a YAML alias bomb?)")
        return super().construct_document(node)


def _expanded_size(root: yaml.Node) -> int | None:
    """Nodes in the document once every alias is expanded, counted without expanding
    (each node once, memoised); None when an alias refers to its own ancestor."""
    def children(node: yaml.Node) -> list:
        if isinstance(node, yaml.MappingNode):
            return [item for pair in node.value for item in pair]
        return node.value if isinstance(node, yaml.SequenceNode) else []

    sizes: dict[int, int] = {}
    entered: set[int] = set()  # the ancestors of the node being visited
    stack = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            entered.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children(node)),
                                  MAX_YAML_NODES + 1)
        elif id(node) in entered:
            return None
        elif id(node) not in sizes:
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children(node))
    return sizes[id(root)]


def _assign(tree: dict, parts: list, value: Any) -> None:
    """Set tree[a][b][c] = value for parts [a, b, c], checking that the key exists in
    Config. A mapping given to a key with sub-keys merges key by key into the tree."""
    cls: type = Config
    node = tree
    for depth, part in enumerate(parts):
        dotted = ".".join(map(str, parts[: depth + 1]))
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if part not in fields:
            raise ConfigError(f"--set {shorten(dotted)}: unknown key"
                              f"{_suggest(str(part), fields)}")
        hint = typing.get_type_hints(cls)[part]
        if depth == len(parts) - 1:
            if dataclasses.is_dataclass(hint) and isinstance(value, dict):
                for key, item in value.items():
                    _assign(tree, [*parts, key], item)
            else:
                node[part] = value
            return
        if not dataclasses.is_dataclass(hint):
            raise ConfigError(f"--set {shorten('.'.join(map(str, parts)))}: "
                              f"{dotted} has no sub-keys")
        cls = hint
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]


def from_dict(tree: dict, cls: type = Config, prefix: str = "") -> Any:
    """Turn a nested dict into dataclass `cls`, rejecting unknown keys and bad values."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in tree:
        if key not in fields:
            raise ConfigError(f"{prefix}{shorten(str(key))}: unknown key"
                              f"{_suggest(str(key), fields)}")
    values = {}
    for name, spec in fields.items():
        dotted = f"{prefix}{name}"
        if name not in tree:
            continue
        value, hint = tree[name], hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted}: expected a mapping of sub-keys, "
                                  f"got {excerpt(value)}")
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
    alias = rules.get("null_alias")
    if alias is not None and type(value) is type(alias) and value == alias:
        value = None  # the old spelling of null (0 is not False: types must match too)
    if value is None:
        if type(None) in allowed:
            return None
        raise ConfigError(f"{dotted}: expected {_describe(allowed)}, got null")
    base = next(t for t in allowed if t is not type(None))
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if base is float and isinstance(value, str) and _EXPONENT_NUMBER.fullmatch(value):
        value = float(value)  # YAML 1.1 reads 1e-3 and 1.0e3 as strings
    if base is int and isinstance(value, bool) or not isinstance(value, base):
        raise ConfigError(f"{dotted}: expected {_describe(allowed)}, got {excerpt(value)}")
    if base is str and "\0" in value:  # no file name can hold one: open() would raise
        raise ConfigError(f"{dotted}: expected a string without NUL, got {excerpt(value)}")
    if base is float and not math.isfinite(value):  # NaN passes every comparison
        raise ConfigError(f"{dotted}: expected a finite number, got {value}")
    if base is float and abs(value) > FLOAT32_MAX:
        raise ConfigError(f"{dotted}: expected a number within the float32 range "
                          f"(at most {FLOAT32_MAX:.4g} in size), got {value:g}")
    choices = rules.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{dotted}: expected one of {', '.join(choices)}, "
                          f"got {excerpt(value)}")
    if rules.get("minimum") is not None and value < rules["minimum"]:
        raise ConfigError(f"{dotted}: expected a value >= {rules['minimum']}, "
                          f"got {excerpt(value)}")
    if rules.get("above") is not None and value <= rules["above"]:
        raise ConfigError(f"{dotted}: expected a value > {rules['above']}, "
                          f"got {excerpt(value)}")
    if rules.get("below") is not None and value >= rules["below"]:
        raise ConfigError(f"{dotted}: expected a value < {rules['below']}, "
                          f"got {excerpt(value)}")
    if rules.get("maximum") is not None and value > rules["maximum"]:
        raise ConfigError(f"{dotted}: expected a value <= {rules['maximum']}, "
                          f"got {excerpt(value)}")
    return value


_EXPONENT_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")
_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _describe(allowed: tuple) -> str:
    names = [_TYPE_NAMES.get(t, "null") for t in allowed]
    return " or ".join(names)


def _suggest(key: str, fields: dict) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]}?"
    return f"; valid keys: {', '.join(fields)}"
