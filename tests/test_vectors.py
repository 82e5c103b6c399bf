"""Pretrained word vectors: file formats, errors, lookup and use in training."""

import gzip

import pytest
import torch

from ner_rnn.config import load_config
from ner_rnn.data.vectors import lookup, read_vectors
from ner_rnn.errors import ConfigError, DataFormatError
from ner_rnn.serve.tagger import Tagger
from ner_rnn.train.loop import train
from ner_rnn.train.word_dropout import WordDropout
from tests.test_training import FAST

GLOVE = "paris 0.1 0.2 0.3\nrome 1 2 3\nThe -1 -1 -1\n"


@pytest.mark.parametrize("name, data", [
    ("glove.txt", GLOVE.encode()),
    ("wiki.vec", b"3 3\n" + GLOVE.encode()),
    ("glove.txt.gz", gzip.compress(GLOVE.encode())),
    ("bom.txt", "\ufeff".encode() + GLOVE.encode()),  # a BOM is not part of the first word
    ("bom.vec", "\ufeff3 3\n".encode() + GLOVE.encode()),
])
def test_formats(write, name, data):
    vectors, dim = read_vectors(write(name, data), {"paris", "rome", "london"})
    assert dim == 3 and set(vectors) == {"paris", "rome"}
    assert vectors["rome"].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("text, message", [
    ("a 1 2 3\nb 1 2\n", "v.txt:2: expected a word and 3 values, got 2 values"),
    ("3 3\na 1 2\n", "v.txt:2: expected a word and 3 values, got 2 values"),
    ("a 1 x 3\n", "v.txt:1: expected numbers after the word 'a'"),
    ("", "v.txt: no vectors found"),
])
def test_errors_name_file_and_line(write, text, message):
    with pytest.raises(DataFormatError, match=message):
        read_vectors(write("v.txt", text), {"a"})


def test_lookup_exact_then_lowercased():
    vectors = {"Paris": "P", "paris": "p", "rome": "r"}
    assert lookup(["<pad>", "Paris", "Rome", "Oslo"], vectors) == {1: "P", 2: "r"}


def test_training_uses_vectors_reports_coverage_and_adds_dev_words(tmp_path, write, caplog):
    from tests.conftest import SAMPLE

    words = ["london", "paris", "the", "zzzz-only-in-vectors"]
    dev_word = next(t.lower() for t in (SAMPLE / "dev.conll").read_text().split()
                    if t.isalpha() and t.lower() not in (SAMPLE / "train.conll").read_text()
                    .lower())
    lines = [f"{w} {' '.join(['0.5'] * 24)}" for w in [*words, dev_word]]
    vectors_file = write("v.txt", "\n".join(lines) + "\n")
    config = load_config(None, FAST + ["train.epochs=1", "model.embeddings.word.lowercase=true",
                                       f"model.embeddings.pretrained={vectors_file}",
                                       "model.embeddings.freeze=true",
                                       "model.embeddings.add_pretrained_words=true"])
    caplog.set_level("INFO")
    train(config, tmp_path / "m")
    assert "pretrained vectors: 4 of" in caplog.text
    tagger = Tagger.load(tmp_path / "m")
    assert dev_word in tagger.vocabs.words
    row = tagger.vocabs.words.id("paris")
    assert torch.allclose(tagger.network.embedder.words.weight[row], torch.full((24,), 0.5))
    with pytest.raises(ConfigError, match="model.embeddings.word.dim: expected 24 to match"):
        train(load_config(None, FAST + ["model.embeddings.word.dim=10",
                                        f"model.embeddings.pretrained={vectors_file}"]),
              tmp_path / "n")


def test_word_dropout_replaces_only_singletons():
    dropout = WordDropout(torch.tensor([False, False, True, False]), p=0.5, unk_id=1)
    words = torch.tensor([[2, 3] * 500])
    out = dropout(words)
    assert set(out[words == 3].tolist()) == {3}
    replaced = (out[words == 2] == 1).float().mean().item()
    assert 0.4 < replaced < 0.6
