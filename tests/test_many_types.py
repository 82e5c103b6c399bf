"""5,000 entity types (10,001 labels): what tagging builds from the labels is built once
per model, by array operations, and nothing of it grows with the square of the labels."""

import numpy as np

from ner_rnn.config import load_config
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.model.network import build_network
from ner_rnn.predict.spans import SpanReader
from ner_rnn.serve.tagger import Tagger
from tests.conftest import ROOT

TYPES = 5000


def test_5000_types_tag_with_the_label_tables_built_once(monkeypatch):
    config = load_config(ROOT / "configs" / "default.yaml", [
        "model.head.type=softmax", "model.head.constrain=false", "model.scheme=iob2",
        "data.scheme=iob2", "model.embeddings.word.dim=4", "model.embeddings.char.filters=4",
        "model.encoder.hidden_size=4", "threads=1"])
    labels = [f"{prefix}-T{i}" for i in range(TYPES) for prefix in "BI"] + ["O"]
    vocabs = Vocabularies.build([["Apple", "is", "big", "."]], [labels])
    tagger = Tagger(config, vocabs, build_network(config, vocabs))
    built = []
    original = SpanReader.__init__
    monkeypatch.setattr(SpanReader, "__init__",
                        lambda self, *args: (built.append(args), original(self, *args))[1])
    SpanReader.of.cache_clear()
    for _ in range(2):
        [result] = tagger.tag(["Apple is big ."])
        assert len(result["tags"]) == 4
        assert {entity["type"] for entity in result["entities"]} <= {f"T{i}" for i in range(TYPES)}
    assert len(built) == 1  # once for the model, not for every call and every batch
    reader = SpanReader.of(tuple(labels), "iob2")
    assert max(np.asarray(value).size for value in vars(reader).values()) <= len(labels) + 1
