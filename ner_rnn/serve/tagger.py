"""The Python API: load a trained model, tag raw or tokenised text, score a corpus."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import torch

from ner_rnn import evaluation
from ner_rnn.config import Config
from ner_rnn.data.conll import Sentence
from ner_rnn.data.examples import Preprocessor
from ner_rnn.data.schemes import convert, detect_scheme
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.model.inference import over_batches
from ner_rnn.model.network import TaggerNetwork
from ner_rnn.model_dir import load_model
from ner_rnn.runtime import resolve_device
from ner_rnn.serve.decode import Decoded, decode_batch
from ner_rnn.serve.results import result
from ner_rnn.serve.tokenize import split_whitespace, tokenize


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
        self.preprocessor = Preprocessor(config, vocabs)

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
        examples = [self.preprocessor.example(sentences[i], document=documents[i])
                    for i in real]
        batches = self.preprocessor.batches(examples, self.config.train.eval_batch_size)
        labels, model_scheme = self.vocabs.labels.items, self.config.model.scheme
        decoded = over_batches(self.network, examples, batches, lambda batch: decode_batch(
            self.network, batch, labels, model_scheme, nbest, confidence))
        results = [Decoded([]) for _ in sentences]
        for index, item in zip(real, decoded):
            results[index] = item
        return results

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
        model_scheme, target = self.config.model.scheme, scheme or self.scheme
        results = []
        for text, line, item in zip(texts, tokenised, decoded):
            tagged = result(text, line, item.tags, model_scheme, target, item.confidence)
            if nbest > 1:
                tagged["nbest"] = [
                    {**result(text, line, tags, model_scheme, target), "probability": probability}
                    for tags, probability in item.alternatives]
            results.append(tagged)
        return results

    def evaluate(self, sentences: Sequence[Sentence], scheme: str | None = None
                 ) -> tuple[dict, list[list[str]]]:
        """conlleval scores of a tagged corpus, and the predicted tags.

        Predictions are written in the corpus's own scheme (detected unless given).
        """
        scheme = scheme or detect_scheme([s.tags for s in sentences])
        return evaluation.evaluate(self.network, self.preprocessor, sentences, scheme)

