"""The Python API: load a trained model, tag raw or tokenised text, score a corpus."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from pathlib import Path

import torch

from ner_rnn.config import SCHEMES, Config, EncoderConfig
from ner_rnn.data.conll import Sentence
from ner_rnn.data.encoding import Encoded, encode_tokens
from ner_rnn.data.examples import Preprocessor
from ner_rnn.data.schemes import detect_scheme
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import NerError, excerpt
from ner_rnn.model.constants import MAX_NBEST, TAG_BATCH_SIZE
from ner_rnn.model.network import TaggerNetwork
from ner_rnn.model_dir import load_model
from ner_rnn.predict import evaluation
from ner_rnn.predict.decode import decode
from ner_rnn.predict.onnx_backend import OnnxBackend, is_export, load_export
from ner_rnn.runtime import resolve_device
from ner_rnn.serve.lines import LineEncoder
from ner_rnn.serve.results import Results, Tagged


class Tagger:
    """A trained tagger: network, vocabularies and the config it was built from.

    `batch_size` is how many encoder rows (sentences, or document context windows)
    `tag` and `predict` run through the network at once; `evaluate` scores in batches of
    the model's `train.eval_batch_size`, as training's dev scoring does.

    >>> Tagger.load("models/default").tag(["Apple is a great company ."])
    [{'tokens': [...], 'tags': [...], 'entities': [{'text': 'Apple', 'type': 'ORG', ...}]}]
    """

    def __init__(self, config: Config, vocabs: Vocabularies,
                 network: TaggerNetwork | OnnxBackend, device: torch.device | None = None,
                 batch_size: int = TAG_BATCH_SIZE):
        self.config = config
        self.vocabs = vocabs
        if isinstance(network, OnnxBackend):  # an exported graph runs on the CPU
            self.device, self.network = torch.device("cpu"), network
        else:
            self.device = device or next(network.parameters()).device
            self.network = network.to(self.device)
        self.preprocessor = Preprocessor(config, vocabs)
        self.batch_size = batch_size

    @classmethod
    def load(cls, directory: str | Path, device: str = "cpu",
             implementation: str | None = None, batch_size: int = TAG_BATCH_SIZE) -> Tagger:
        """Load a model directory written by `ner-rnn train`, or a FILE.onnx written by
        `ner-rnn export` (run by onnxruntime on the CPU, with as many threads as torch
        uses; it gives the best tags only: no `nbest`, no `confidence`).

        `implementation` (`torch` or `native`) overrides the encoder implementation it
        was trained with; predictions are identical either way. `batch_size`: rows
        tagged at a time (a positive integer, numpy ones too): speed and memory; results
        change by float rounding at most.
        """
        _check_choice("implementation", implementation, _IMPLEMENTATIONS)
        _check_batch_size(batch_size)  # before the model loads
        if is_export(directory):
            if implementation is not None or device not in ("cpu", "auto"):
                raise ValueError(f"{directory}: an exported model runs as exported, on the "
                                 "CPU: no implementation, no device but cpu")
            return cls(*load_export(directory, torch.get_num_threads()), batch_size=batch_size)
        config, vocabs, network = load_model(directory, implementation)
        return cls(config, vocabs, network, resolve_device(device), batch_size)

    @property
    def batch_size(self) -> int:
        """Encoder rows tagged at a time by `tag` and `predict` (default TAG_BATCH_SIZE)."""
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        _check_batch_size(value)
        self._batch_size = int(value)

    @property
    def scheme(self) -> str:
        """The tag scheme of the training data, in which tags are returned."""
        return self.config.data.scheme

    def results(self, scheme: str | None = None) -> Results:
        """What turns this model's decoded paths into results with tags in `scheme`."""
        _check_choice("scheme", scheme, SCHEMES)
        return Results(self.vocabs.labels.items, self.config.model.scheme,
                       scheme or self.scheme)

    def predict(self, sentences: Sequence[Sequence[str]], scheme: str | None = None,
                documents: Sequence[int] | None = None) -> list[list[str]]:
        """Tags for each tokenised sentence, in `scheme` (default: the training data's).

        A model trained with `model.document_context` reads consecutive sentences of one
        document together: `documents` gives each sentence's document id; by default an
        empty sentence ends a document.
        """
        _check_choice("scheme", scheme, SCHEMES)
        sentences = [_strings(tokens, "each sentence", "a sequence of tokens")
                     for tokens in _sequence(sentences, "sentences", "tokenised sentences")]
        lengths = [len(tokens) for tokens in sentences]
        encoded = encode_tokens(self.vocabs, [token for tokens in sentences for token in tokens],
                                lengths, self.preprocessor.char_length)
        return evaluation.predict(self.network, self.preprocessor,
                                  _documents(encoded, documents), scheme or self.scheme,
                                  self.batch_size)

    def tag(self, texts: Sequence[str], pretokenized: bool = False, scheme: str | None = None,
            nbest: int = 1, confidence: bool = False, documents: Sequence[int] | None = None
            ) -> list[dict]:
        """Tokenise and tag raw lines; one result per line, in input order.

        Each result is `{"tokens", "tags", "entities"}`; an entity is `{"text", "type",
        "start", "end", "char_start", "char_end"}` with token indices and character
        offsets into the line, ends exclusive. An empty line gives an empty result.
        `confidence=True` adds each entity's probability (its span tagged exactly so,
        from forward-backward); `nbest=K` adds `"nbest"`: up to K `{"tokens", "tags",
        "entities", "probability"}` (entities without confidence), best first. `documents` as in `predict` (by default a blank
        line ends a document).
        """
        results = self.results(scheme)  # checks `scheme` before any work
        texts = _strings(texts, "texts", "lines")
        if not isinstance(nbest, numbers.Integral) or isinstance(nbest, bool):
            raise TypeError(f"nbest must be an int, got {type(nbest).__name__}")
        if not 1 <= nbest <= MAX_NBEST:
            raise ValueError(f"nbest must be from 1 to {MAX_NBEST}, got {nbest}")
        nbest = int(nbest)
        encoder = LineEncoder(self.vocabs, self.preprocessor.char_length, pretokenized)
        lines = encoder(texts)
        paths = decode(self.network, self.preprocessor, _documents(lines.encoded, documents),
                       self.batch_size, nbest, confidence)
        tagged = Tagged(lines.texts, lines.encoded.lengths, lines.offsets, paths)
        return results.dicts(tagged)

    def evaluate(self, sentences: Sequence[Sentence], scheme: str | None = None
                 ) -> tuple[dict, list[list[str]]]:
        """conlleval scores of a tagged corpus, and the predicted tags.

        Predictions are written in the corpus's own scheme (detected unless given).
        """
        _check_choice("scheme", scheme, SCHEMES)
        if isinstance(self.network, OnnxBackend):
            raise NerError(f"{self.network.source}: evaluate needs the model directory, not "
                           "an exported model")
        scheme = scheme or detect_scheme([s.tags for s in sentences], "the sentences",
                                          [s.line for s in sentences])
        return evaluation.evaluate(self.network, self.preprocessor, sentences, scheme)


_IMPLEMENTATIONS = EncoderConfig.__dataclass_fields__["implementation"].metadata["choices"]


def _check_batch_size(value: object) -> None:
    """A positive integer (an int, a numpy integer: any numbers.Integral but bool), else
    a TypeError or ValueError saying what it got."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"batch_size must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"batch_size must be at least 1, got {value}")


def _check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    """None (the default) or one of `choices`, else a ValueError naming them."""
    if value is not None and value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {excerpt(value)}")


def _sequence(value: object, name: str, what: str) -> list:
    """`value` as a list, refusing a bare string (which would be read character by
    character) and anything that is not a sequence."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of {what}, got {type(value).__name__}; "
                        "wrap a single one in a list")
    return list(value)


def _strings(value: object, name: str, what: str) -> list[str]:
    """`value` as a list of strings (see `_sequence`)."""
    items = _sequence(value, name, what)
    wrong = next((item for item in items if not isinstance(item, str)), None)
    if wrong is not None:
        raise TypeError(f"{name} must hold strings, got a {type(wrong).__name__}")
    return items


def _documents(encoded: Encoded, documents: Sequence[int] | None) -> Encoded:
    """`encoded` with its sentences' document ids: `documents`, or by default a count of
    the empty sentences so far (an empty sentence ends a document)."""
    if documents is None:
        documents = list(itertools.accumulate(int(n == 0) for n in encoded.lengths.tolist()))
    return encoded.with_documents(documents)
