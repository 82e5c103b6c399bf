"""The Python API: load a trained model, tag raw or tokenised text, score a corpus."""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ner_rnn.config import Config
from ner_rnn.data.batching import Batch, Encoded, batch_rows, collate, encode
from ner_rnn.data.conll import Sentence
from ner_rnn.data.schemes import convert, detect_scheme, spans, tags_from_spans
from ner_rnn.serve.tokenize import split_whitespace, tokenize
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.metrics import Counts
from ner_rnn.model_dir import load_model
from ner_rnn.model.decoding import NEG_INF, kbest, log_partition, marginals, span_log_probability
from ner_rnn.model.network import TaggerNetwork, best_paths
from ner_rnn.runtime import resolve_device

log = logging.getLogger(__name__)


@dataclass
class Decoded:
    """One sentence's decoding, tags in the model's scheme."""

    tags: list[str]
    alternatives: list[tuple[list[str], float]] = field(default_factory=list)  # k-best
    confidence: dict | None = None  # entity span -> probability


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
        config, vocabs, network = load_model(directory, implementation)
        return cls(config, vocabs, network, resolve_device(device))

    @property
    def scheme(self) -> str:
        """The tag scheme of the training data, in which tags are returned."""
        return self.config.data.scheme

    def predict(self, sentences: Sequence[Sequence[str]], scheme: str | None = None,
                documents: Sequence[int] | None = None) -> list[list[str]]:
        """Tags for each tokenised sentence, in `scheme` (default: the training data's).

        A model trained with `model.document_context` reads consecutive sentences of one
        document together: `documents` gives each sentence's document id; by default an
        empty sentence ends a document.
        """
        model_scheme, target = self.config.model.scheme, scheme or self.scheme
        return [convert(decoded.tags, model_scheme, target)
                for decoded in self._decode(sentences, documents=documents)]

    def encode(self, tokens: list[str], tags: list[str] | None = None) -> Encoded:
        """Ids for one sentence (tags in the model's scheme), as the network reads them."""
        char = self.config.model.embeddings.char
        return encode(self.vocabs, tokens, tags, char.max_length if char.type else None)

    def _decode(self, sentences: Sequence[Sequence[str]], nbest: int = 1,
                confidence: bool = False, documents: Sequence[int] | None = None
                ) -> list[Decoded]:
        """Decode in length-sorted batches; results in input order, empty ones for empty
        sentences. Tags are in the model's scheme. See `predict` for `documents`."""
        lengths = [len(tokens) for tokens in sentences]
        if documents is None:  # an empty sentence ends a document
            documents = list(itertools.accumulate(int(n == 0) for n in lengths))
        if len(documents) != len(sentences):
            raise ValueError(f"documents: expected one id per sentence ({len(sentences)}), "
                             f"got {len(documents)}")
        real = [i for i, n in enumerate(lengths) if n > 0]
        encoded = [self.encode(list(sentences[i])) for i in real]
        batches = batch_rows([documents[i] for i in real], [lengths[i] for i in real],
                             self.config.model.document_context,
                             self.config.train.eval_batch_size)
        results = [Decoded([]) for _ in sentences]
        was_training = self.network.training
        self.network.eval()
        with torch.inference_mode():
            for rows in batches:
                batch = collate(encoded, rows).to(self.device)
                for index, decoded in zip(batch.indices,
                                          self._decode_batch(batch, nbest, confidence)):
                    results[real[index]] = decoded
        self.network.train(was_training)
        return results

    def _decode_batch(self, batch: Batch, nbest: int, confidence: bool) -> list[Decoded]:
        p = self.network.potentials(batch)
        labels, scheme = self.vocabs.labels.items, self.config.model.scheme
        best = best_paths(self.network.head, p, batch)
        decoded = [Decoded([labels[i] for i in ids]) for ids in best]
        if nbest > 1:
            paths, scores = kbest(p, batch.mask, nbest)  # (batch, k, time), (batch, k)
            log_z = log_partition(p, batch.mask)  # (batch,)
            for row, item in enumerate(decoded):
                length = batch.lengths[row].item()
                item.alternatives = [
                    ([labels[i] for i in path[:length]], math.exp(score - log_z[row].item()))
                    for path, score in zip(paths[row].tolist(), scores[row].tolist())
                    if score > NEG_INF / 2]  # lower: a forbidden transition or no such path
        if confidence:
            alpha, beta, log_z = marginals(p, batch.mask, batch.lengths)
            for row, (item, ids) in enumerate(zip(decoded, best)):
                item.confidence = {
                    span: math.exp(span_log_probability(p, alpha, beta, log_z, row, span[0],
                                                        span[1], ids[span[0]:span[1]]))
                    for span in spans(item.tags, scheme)}
        return decoded

    def tag(self, texts: Sequence[str], pretokenized: bool = False, scheme: str | None = None,
            nbest: int = 1, confidence: bool = False, documents: Sequence[int] | None = None
            ) -> list[dict]:
        """Tokenise and tag raw lines; one result per line, in input order.

        Each result is `{"tokens", "tags", "entities"}`; an entity is `{"text", "type",
        "start", "end", "char_start", "char_end"}` with token indices and character
        offsets into the line, ends exclusive. An empty line gives an empty result.
        `confidence=True` adds each entity's probability (its span tagged exactly so,
        from forward-backward); `nbest=K` adds `"nbest"`: up to K `{"tags", "entities",
        "probability"}`, best first. `documents` as in `predict` (by default a blank
        line ends a document).
        """
        if nbest < 1:
            raise ValueError(f"nbest must be at least 1, got {nbest}")
        split = split_whitespace if pretokenized else tokenize
        tokenised = [split(text) for text in texts]
        decoded = self._decode([[token for token, _, _ in line] for line in tokenised],
                               nbest, confidence, documents)
        results = []
        for text, line, item in zip(texts, tokenised, decoded):
            result = self._result(text, line, item.tags, scheme, item.confidence)
            if nbest > 1:
                result["nbest"] = [
                    {**self._result(text, line, tags, scheme), "probability": probability}
                    for tags, probability in item.alternatives]
            results.append(result)
        return results

    def _result(self, text: str, line: list[tuple[str, int, int]], model_tags: list[str],
                scheme: str | None, confidence: dict | None = None) -> dict:
        """One tagging result: tokens, tags in `scheme`, entities with offsets."""
        model_scheme, target = self.config.model.scheme, scheme or self.scheme
        entity_spans = spans(model_tags, model_scheme)
        entities = []
        for span in entity_spans:
            start, end, type_ = span
            char_start, char_end = line[start][1], line[end - 1][2]
            entity = {"text": text[char_start:char_end], "type": type_, "start": start,
                      "end": end, "char_start": char_start, "char_end": char_end}
            if confidence is not None:
                entity["confidence"] = confidence[span]
            entities.append(entity)
        tags = model_tags if target == model_scheme else tags_from_spans(
            entity_spans, len(model_tags), target)
        return {"tokens": [token for token, _, _ in line], "tags": tags, "entities": entities}

    def evaluate(self, sentences: Sequence[Sentence], scheme: str | None = None
                 ) -> tuple[dict, list[list[str]]]:
        """conlleval scores of a tagged corpus, and the predicted tags.

        Predictions are written in the corpus's own scheme (detected unless given).
        """
        scheme = scheme or detect_scheme([s.tags for s in sentences])
        predicted = self.predict([s.tokens for s in sentences], scheme,
                                 [s.document for s in sentences])
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
