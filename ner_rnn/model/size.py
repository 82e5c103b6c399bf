"""How many parameters the network a config describes has, worked out before building it.

A size typed one digit too long (`hidden_size: 1000000000`) would otherwise end in an
allocation failure deep inside torch, or in minutes of swapping. The count is plain
arithmetic over the config and the vocabulary sizes (torch's fused layers, which have
the most parameters of the two implementations); tests check it against built networks.
"""

from __future__ import annotations

from dataclasses import replace

from ner_rnn.config import ModelConfig
from ner_rnn.data.vocab import CASINGS
from ner_rnn.errors import ConfigError

# More than any tagger of this kind needs: a BiLSTM-CRF for CoNLL-2003 has about 3
# million, a 2-million-word vocabulary of 300-d vectors 600 million. Beyond this the
# weights alone take 4 GB, and training holds four copies (weights, gradients, moments).
MAX_PARAMETERS = 1_000_000_000

GATES = {"rnn": 1, "gru": 3, "lstm": 4}

SIZE_KEYS = ["model.embeddings.word.dim", "model.embeddings.char.dim",
             "model.embeddings.char.filters", "model.embeddings.char.width",
             "model.embeddings.char.hidden_size", "model.embeddings.casing_dim",
             "model.encoder.hidden_size", "model.encoder.num_layers"]


def parameter_count(config: ModelConfig, words: int, chars: int, labels: int) -> int:
    """Parameters of the network for `config` with vocabularies of these sizes."""
    embeddings, char, encoder = config.embeddings, config.embeddings.char, config.encoder
    count = words * embeddings.word.dim
    features = embeddings.word.dim
    if char.type == "cnn":
        count += chars * char.dim + (char.width * char.dim + 1) * char.filters
        features += char.filters
    elif char.type == "lstm":
        count += chars * char.dim + 2 * _recurrent(4, char.dim, char.hidden_size)
        features += 2 * char.hidden_size
    if embeddings.casing_dim:
        count += len(CASINGS) * embeddings.casing_dim
        features += embeddings.casing_dim
    directions = 2 if encoder.bidirectional else 1
    for layer in range(encoder.num_layers):
        size_in = features if layer == 0 else encoder.hidden_size * directions
        count += directions * _recurrent(GATES[encoder.type], size_in, encoder.hidden_size)
    count += (encoder.hidden_size * directions + 1) * labels  # the head's projection
    if config.head.type == "crf":
        count += labels * labels + 2 * labels  # transitions, start and end scores
    return count


def _recurrent(gates: int, size_in: int, hidden: int) -> int:
    """One direction of one torch recurrent layer: input and hidden weights, two biases."""
    return gates * hidden * (size_in + hidden + 2)


def check_size(config: ModelConfig, words: int, chars: int, labels: int) -> None:
    """Refuse a network of more than MAX_PARAMETERS parameters, naming the key whose
    value accounts for most of them."""
    count = parameter_count(config, words, chars, labels)
    if count <= MAX_PARAMETERS:
        return
    # the key that dominates: the one whose value, set to 1, removes the most parameters
    key = min(SIZE_KEYS, key=lambda k: parameter_count(_set(config, _path(k), 1), words,
                                                        chars, labels))
    raise ConfigError(f"{key}: {_get(config, _path(key))} makes a network of {count:.2e} "
                      f"parameters, more than the {MAX_PARAMETERS:.0e} this tagger allows; "
                      "choose smaller sizes")


def _path(key: str) -> list[str]:
    return key.split(".")[1:]  # below `model.`


def _get(config, path: list[str]):
    for name in path:
        config = getattr(config, name)
    return config


def _set(config, path: list[str], value):
    if len(path) == 1:
        return replace(config, **{path[0]: value})
    return replace(config, **{path[0]: _set(getattr(config, path[0]), path[1:], value)})
