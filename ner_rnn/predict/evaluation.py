"""Scoring a network on a tagged corpus, as `evaluate`, `report` and the training loop's
dev scoring all do: predict (see `decode`), write back in the corpus's scheme, count as
conlleval."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ner_rnn.data.conll import Sentence
from ner_rnn.data.encoding import Encoded, encode_tokens
from ner_rnn.data.examples import Preprocessor
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.metrics import Counts
from ner_rnn.model.network import TaggerNetwork
from ner_rnn.predict.decode import decode
from ner_rnn.predict.spans import Retagger

log = logging.getLogger(__name__)


def predict(network: TaggerNetwork, preprocessor: Preprocessor, encoded: Encoded,
            scheme: str, batch_size: int) -> list[list[str]]:
    """Best tags of each sentence of `encoded` (with its document ids), written in
    `scheme`, decoded `batch_size` encoder rows at a time; an empty sentence has none."""
    labels, model_scheme = preprocessor.vocabs.labels.items, preprocessor.config.model.scheme
    paths = decode(network, preprocessor, encoded, batch_size)
    return Retagger(labels, model_scheme, scheme).tags(paths.tags, encoded.lengths)


def evaluate(network: TaggerNetwork, preprocessor: Preprocessor,
             sentences: Sequence[Sentence], scheme: str) -> tuple[dict, list[list[str]]]:
    """conlleval scores of a tagged corpus whose tags are in `scheme`, and the predicted
    tags in that scheme (decoded in batches of the model's `train.eval_batch_size`)."""
    encoded = encode_tokens(preprocessor.vocabs, [t for s in sentences for t in s.tokens],
                            [len(s.tokens) for s in sentences], preprocessor.char_length)
    predicted = predict(network, preprocessor,
                        encoded.with_documents([s.document for s in sentences]), scheme,
                        preprocessor.config.train.eval_batch_size)
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
        log.warning("%s: entity types never seen in training, scored as misses: %s",
                    path, found)
