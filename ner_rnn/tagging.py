"""The Python API: load a trained model, tag raw or tokenised text, score a corpus."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import torch

from ner_rnn.config import Config
from ner_rnn.data.batching import Encoded, bucket_batches, collate, encode
from ner_rnn.data.conll import Sentence
from ner_rnn.data.schemes import Span, convert, detect_scheme, spans
from ner_rnn.data.tokenize import split_whitespace, tokenize
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.metrics import Counts
from ner_rnn.model.tagger import TaggerNetwork
from ner_rnn.runtime import resolve_device

log = logging.getLogger(__name__)


class Tagger:
    """A trained tagger: network, vocabularies and the config it was built from.

    >>> Tagger.load("models/default").tag(["Apple is a great company ."])
    [{'tokens': [...], 'tags': [...], 'entities': [{'text': 'Apple', 'type': 'ORG', ...}]}]
    """

    def __init__(self, config: Config, vocabs: Vocabularies, network: TaggerNetwork,
                 device: torch.device | None = None):
        self.config = config
        self.vocabs = vocabs
        self.device = device or next(network.parameters()).device
        self.network = network.to(self.device)

    @classmethod
    def load(cls, directory: str | Path, device: str = "cpu",
             implementation: str | None = None) -> Tagger:
        """Load a model directory written by `ner-rnn train`.

        `implementation` (`torch` or `native`) overrides the encoder implementation it
        was trained with; predictions are identical either way.
        """
        from ner_rnn.model_dir import load_model  # model_dir imports this package's root

        config, vocabs, network = load_model(directory, implementation)
        return cls(config, vocabs, network, resolve_device(device))

    @property
    def scheme(self) -> str:
        """The tag scheme of the training data, in which tags are returned."""
        return self.config.data.scheme

    def predict(self, sentences: Sequence[Sequence[str]], scheme: str | None = None
                ) -> list[list[str]]:
        """Tags for each tokenised sentence, in `scheme` (default: the training data's)."""
        model_tags = self._predict_model_tags(sentences)
        model_scheme, target = self.config.model.scheme, scheme or self.scheme
        return [convert(tags, model_scheme, target) for tags in model_tags]

    def encode(self, tokens: list[str], tags: list[str] | None = None) -> Encoded:
        """Ids for one sentence (tags in the model's scheme), as the network reads them."""
        char = self.config.model.embeddings.char
        return encode(self.vocabs, tokens, tags, char.max_length if char.type else None)

    def _predict_model_tags(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        encoded = [self.encode(list(tokens)) for tokens in sentences]
        lengths = [len(tokens) for tokens in sentences]
        results: list[list[str]] = [[] for _ in sentences]
        real = [i for i, n in enumerate(lengths) if n > 0]  # empty sentences get no tags
        labels = self.vocabs.labels.items
        was_training = self.network.training
        self.network.eval()
        with torch.inference_mode():
            for rows in bucket_batches([lengths[i] for i in real], self.config.train.eval_batch_size):
                indices = [real[r] for r in rows]
                batch = collate(encoded, indices).to(self.device)
                for index, ids in zip(indices, self.network.decode(batch)):
                    results[index] = [labels[i] for i in ids]
        self.network.train(was_training)
        return results

    def tag(self, texts: Sequence[str], pretokenized: bool = False,
            scheme: str | None = None) -> list[dict]:
        """Tokenise and tag raw lines; one result per line, in input order.

        Each result is `{"tokens", "tags", "entities"}`; an entity is `{"text", "type",
        "start", "end", "char_start", "char_end"}` with token indices and character
        offsets into the line, ends exclusive. An empty line gives an empty result.
        """
        split = split_whitespace if pretokenized else tokenize
        tokenised = [split(text) for text in texts]
        tokens = [[token for token, _, _ in line] for line in tokenised]
        model_tags = self._predict_model_tags(tokens)
        target = scheme or self.scheme
        return [
            _result(text, line, spans(tags, self.config.model.scheme),
                    convert(tags, self.config.model.scheme, target))
            for text, line, tags in zip(texts, tokenised, model_tags)
        ]

    def evaluate(self, sentences: Sequence[Sentence], scheme: str | None = None
                 ) -> tuple[dict, list[list[str]]]:
        """conlleval scores of a tagged corpus, and the predicted tags.

        Predictions are written in the corpus's own scheme (detected unless given).
        """
        scheme = scheme or detect_scheme([s.tags for s in sentences])
        predicted = self.predict([s.tokens for s in sentences], scheme)
        counts = Counts()
        for sentence, tags in zip(sentences, predicted):
            counts.add(sentence.tags, tags, scheme)
        return counts.report(), predicted


def warn_unseen_types(path: str | Path, sentences: Sequence[Sentence],
                      vocabs: Vocabularies) -> None:
    """Entity types absent from training can never be predicted; say so once, with counts.

    They stay in the gold data and are scored as misses (recall falls), as conlleval would.
    """
    known = {label[2:] for label in vocabs.labels.items if label != "O"}
    unseen = Counter(tag[2:] for sentence in sentences for tag in sentence.tags
                     if tag != "O" and tag[2:] not in known)
    if unseen:
        found = ", ".join(f"{type_} ({n} tokens)" for type_, n in sorted(unseen.items()))
        log.warning("warning: %s: entity types never seen in training, scored as misses: %s",
                    path, found)


def _result(text: str, line: list[tuple[str, int, int]], entity_spans: list[Span],
            tags: list[str]) -> dict:
    entities = []
    for start, end, type_ in entity_spans:
        char_start, char_end = line[start][1], line[end - 1][2]
        entities.append({"text": text[char_start:char_end], "type": type_, "start": start,
                         "end": end, "char_start": char_start, "char_end": char_end})
    return {"tokens": [token for token, _, _ in line], "tags": tags, "entities": entities}
