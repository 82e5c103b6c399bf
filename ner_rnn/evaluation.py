"""Scoring a network on a tagged corpus, as `evaluate` and the training loop's dev
scoring both do: predict, write back in the corpus's scheme, count as conlleval."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ner_rnn.data.conll import Sentence
from ner_rnn.data.encoding import encode_tokens
from ner_rnn.data.examples import Preprocessor
from ner_rnn.data.schemes import convert
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.metrics import Counts
from ner_rnn.model.inference import over_batches
from ner_rnn.model.network import TaggerNetwork

log = logging.getLogger(__name__)


def predict(network: TaggerNetwork, preprocessor: Preprocessor,
            sentences: Sequence[Sequence[str]], documents: Sequence[int], scheme: str
            ) -> list[list[str]]:
    """Best tags of each non-empty tokenised sentence, written in `scheme`."""
    lengths = [len(tokens) for tokens in sentences]
    examples = encode_tokens(preprocessor.vocabs, [t for s in sentences for t in s], lengths,
                             preprocessor.char_length).with_documents(documents)
    batches = preprocessor.batches(examples, preprocessor.config.train.eval_batch_size)
    labels, model_scheme = preprocessor.vocabs.labels.items, preprocessor.config.model.scheme
    paths = over_batches(network, examples, batches, network.decode)
    return [convert([labels[i] for i in path], model_scheme, scheme) for path in paths]


def evaluate(network: TaggerNetwork, preprocessor: Preprocessor,
             sentences: Sequence[Sentence], scheme: str) -> tuple[dict, list[list[str]]]:
    """conlleval scores of a tagged corpus whose tags are in `scheme`, and the predicted
    tags in that scheme."""
    predicted = predict(network, preprocessor, [s.tokens for s in sentences],
                        [s.document for s in sentences], scheme)
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
