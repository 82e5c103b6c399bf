"""A training run's model directory changes as a whole or not at all."""

import pytest

from ner_rnn.cli import main
from ner_rnn.config import load_config
from ner_rnn.errors import Interrupted, ModelError, NerError
from ner_rnn.serve.tagger import Tagger
from ner_rnn.train import loop as training
from ner_rnn.train.loop import train
from tests.test_training import FAST

CONFIG = FAST + ["train.epochs=1", "data.test=null"]


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("old") / "model"
    train(load_config(None, CONFIG), directory)
    return directory


@pytest.fixture
def old_model(trained, tmp_path):
    copy = tmp_path / "model"
    copy.mkdir()
    for name, data in snapshot(trained).items():
        (copy / name).write_bytes(data)
    return copy


def test_a_model_is_replaced_only_with_overwrite(old_model, write, capsys):
    before = snapshot(old_model)
    with pytest.raises(ModelError, match="holds a model; pass --overwrite"):
        train(load_config(None, CONFIG), old_model)
    assert snapshot(old_model) == before
    assert main(["train", "--config", str(write("empty.yaml", "")), "--output-dir", str(old_model),
                 *[arg for key in CONFIG for arg in ("--set", key)]]) == 2
    assert "--overwrite" in capsys.readouterr().err
    train(load_config(None, CONFIG + ["seed=3"]), old_model, overwrite=True)
    assert snapshot(old_model)["weights.pt"] != before["weights.pt"]
    assert sorted(p.name for p in old_model.parent.iterdir()) == ["empty.yaml", "model"]


def test_interrupt_in_epoch_1_leaves_the_old_model_exactly(old_model, monkeypatch):
    before = snapshot(old_model)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train_epoch", interrupt)
    with pytest.raises(Interrupted, match=r"epoch 1; nothing was saved; .*model is unchanged"):
        train(load_config(None, CONFIG), old_model, overwrite=True)
    assert snapshot(old_model) == before
    assert [p.name for p in old_model.parent.iterdir()] == ["model"]  # no staging left
    Tagger.load(old_model)  # still loads


def test_divergence_in_epoch_1_writes_nothing(tmp_path, monkeypatch):
    real_loss = training.TaggerNetwork.loss
    monkeypatch.setattr(training.TaggerNetwork, "loss",
                        lambda self, batch: real_loss(self, batch) * float("inf"))
    with pytest.raises(NerError, match="loss is inf in epoch 1, batch 1;.*nothing was saved"):
        train(load_config(None, CONFIG), tmp_path / "new" / "model")
    assert list(tmp_path.joinpath("new").iterdir()) == []


def test_a_directory_that_only_looks_like_a_model_is_refused(tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "meta.json").write_text('{"format_version": 1}')
    (fake / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(ModelError, match="is not empty and holds no model"):
            train(load_config(None, CONFIG), fake, overwrite=overwrite)
    assert sorted(p.name for p in fake.iterdir()) == ["meta.json", "notes.txt"]


def test_an_empty_directory_and_a_symlink_are_used_in_place(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    train(load_config(None, CONFIG), empty)
    assert Tagger.load(empty).predict([["Paris"]])
    link = tmp_path / "link"
    link.symlink_to(empty, target_is_directory=True)
    train(load_config(None, CONFIG + ["seed=5"]), link, overwrite=True)
    assert link.is_symlink() and Tagger.load(link).predict([["Paris"]])
