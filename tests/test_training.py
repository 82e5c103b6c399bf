import json

import pytest

from ner_rnn.config import load_config
from ner_rnn.errors import ConfigError
from ner_rnn.serve.tagger import Tagger
from ner_rnn.train.loop import train
from tests.conftest import SAMPLE

FAST = ["model.embeddings.word.dim=24", "model.encoder.hidden_size=24", "train.batch_size=8",
        "model.dropout=0.2", "model.embeddings.dropout=0.2",
        "train.lr=0.01", f"data.train={SAMPLE / 'train.conll'}",
        f"data.dev={SAMPLE / 'dev.conll'}", f"data.test={SAMPLE / 'test.conll'}"]


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_a_tiny_run_learns(tmp_path, kind):
    config = load_config(None, FAST + ["train.epochs=8", f"model.encoder.type={kind}"])
    summary = train(config, tmp_path / "model")
    lines = (tmp_path / "model" / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    epochs = [r for r in records if "epoch" in r]
    assert epochs[-1]["loss"] < epochs[0]["loss"] / 2  # the loss falls
    assert summary["dev"]["f1"] > 0.5  # far above chance (a random tagger scores ~0)
    assert records[-1] == summary


def test_same_seed_same_metrics_and_reload_predicts_the_same(tmp_path):
    config = load_config(None, FAST + ["train.epochs=2"])
    first = train(config, tmp_path / "a")
    second = train(config, tmp_path / "b")
    assert first == second
    from ner_rnn.data.conll import read_conll

    report, _ = Tagger.load(tmp_path / "a").evaluate(read_conll(SAMPLE / "test.conll"))
    assert report["overall"]["f1"] == first["test"]["f1"]


def test_early_stopping_and_unseen_dev_labels(tmp_path, write, caplog):
    train_file = write("t.conll", "Paris B-LOC\nis O\nnice O\n\nRome B-LOC\nis O\nold O\n")
    dev_file = write("d.conll", "Bob B-PER\nis O\nhere O\n")
    config = load_config(None, [f"data.train={train_file}", f"data.dev={dev_file}",
                                "train.epochs=20", "train.patience=2"])
    summary = train(config, tmp_path / "m")
    assert summary["best_epoch"] == 1  # F1 is 0 throughout: no gain after epoch 1
    lines = (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3 + 1  # epochs 1-3, then the summary
    assert "entity types never seen in training, scored as misses: PER (1 tokens)" in caplog.text


def test_errors_before_anything_is_written(tmp_path, write):
    with pytest.raises(ConfigError, match="data.train: a training file is required"):
        train(load_config(None), tmp_path / "m")
    bad = write("bad.conll", "Paris B_LOC\n")
    from ner_rnn.errors import DataFormatError

    with pytest.raises(DataFormatError, match="bad.conll:1"):
        train(load_config(None, [f"data.train={bad}"]), tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("trained, other", [("torch", "native"), ("native", "torch")])
def test_a_model_predicts_the_same_with_either_implementation(tmp_path, trained, other):
    from ner_rnn.data.conll import read_conll

    config = load_config(None, FAST + ["train.epochs=1", "data.test=null",
                                       f"model.encoder.implementation={trained}"])
    train(config, tmp_path / "m")
    tokens = [s.tokens for s in read_conll(SAMPLE / "dev.conll")]
    as_trained = Tagger.load(tmp_path / "m")
    converted = Tagger.load(tmp_path / "m", implementation=other)
    assert converted.config.model.encoder.implementation == other
    assert converted.predict(tokens) == as_trained.predict(tokens)
