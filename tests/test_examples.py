"""The data hand-off: scheme resolution, gold tags through spans, ids and windows."""

import torch

from ner_rnn.config import load_config
from ner_rnn.data.batching import collate
from ner_rnn.data.conll import Sentence
from ner_rnn.data.examples import Preprocessor
from ner_rnn.model.network import build_network


def preprocessor(sentences, *overrides):
    return Preprocessor.for_training(load_config(None, list(overrides)), sentences)


def model_tags(prep, example):
    return [prep.vocabs.labels.items[i] for i in example.tags]


def test_scheme_is_detected_and_saved_resolved():
    iob1 = [Sentence(["Paris", "is", "nice"], ["I-LOC", "O", "O"])]
    prep = preprocessor(iob1)
    assert prep.config.data.scheme == "iob1"
    assert prep.vocabs.labels.items == ["O", "S-LOC"]  # BIOES inside by default


def test_ill_formed_gold_tags_are_learnt_as_the_entities_they_name():
    # BIOES data whose B- is never closed, and IOB1 data whose B- starts a fresh entity:
    # both name one-token entities, which the model must learn in a form it can output.
    bioes = [Sentence(["Ann", "sang", "Bo"], ["B-PER", "O", "S-PER"])]
    prep = preprocessor(bioes, "data.scheme=bioes")
    assert model_tags(prep, prep.examples(bioes)) == ["S-PER", "O", "S-PER"]
    iob1 = [Sentence(["to", "Rome", "now"], ["O", "B-LOC", "O"])]
    prep = preprocessor(iob1, "data.scheme=iob1", "model.scheme=iob2")
    assert model_tags(prep, prep.examples(iob1)) == ["O", "B-LOC", "O"]


def test_constrained_crf_loss_stays_finite_on_ill_formed_gold():
    sentences = [Sentence(["Ann", "sang", "Bo"], ["B-PER", "O", "S-PER"])]
    prep = preprocessor(sentences, "data.scheme=bioes", "model.head.type=crf",
                        "model.embeddings.word.dim=4", "model.encoder.hidden_size=4")
    network = build_network(prep.config, prep.vocabs).eval()
    loss = network.loss(collate(prep.examples(sentences), [[0]]))
    assert torch.isfinite(loss) and loss.item() < 10  # an impossible gold path scores ~1e4


def test_documents_become_windows_and_every_sentence_is_batched_once():
    sentences = [Sentence(["a"] * n, ["O"] * n, document=d)
                 for n, d in [(3, 0), (4, 0), (2, 1), (9, 1), (1, 1)]]
    prep = preprocessor(sentences, "model.document_context=8")
    batches = prep.batches(prep.examples(sentences), batch_size=2)
    rows = [row for batch in batches for row in batch]
    assert sorted(rows) == [[0, 1], [2], [3], [4]]
    assert all(len(batch) <= 2 for batch in batches)
