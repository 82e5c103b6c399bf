"""Nothing lost, nothing run: resume, interrupts, failed writes, divergence, unsafe files."""

import json
import os
import pickle

import pytest
import torch

from ner_rnn.config import load_config
from ner_rnn.data.conll import read_conll
from ner_rnn.errors import Interrupted, ModelError, NerError
from ner_rnn.serve.tagger import Tagger
from ner_rnn.train import loop as training
from ner_rnn.train.loop import resume, train
from tests.conftest import SAMPLE
from tests.test_training import FAST

CONFIG = FAST + ["train.epochs=4", "train.patience=null", "model.embeddings.char.type=cnn",
                 "model.embeddings.char.filters=8", "model.embeddings.casing_dim=4"]


def metrics(directory):
    return [json.loads(line) for line in (directory / "metrics.jsonl").read_text().splitlines()]


def without_timing(records):
    return [{k: v for k, v in r.items() if k not in ("seconds", "sentences_per_s")}
            for r in records]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    directory = tmp_path_factory.mktemp("full") / "model"
    train(load_config(None, CONFIG), directory)
    return directory


def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path, monkeypatch, uninterrupted):
    real_epoch = training.train_epoch
    calls = []

    def interrupt_in_epoch_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "train_epoch", interrupt_in_epoch_3)
    with pytest.raises(Interrupted, match="checkpoint after epoch 2; continue with: "
                                          "ner-rnn train --resume"):
        train(load_config(None, CONFIG), tmp_path / "m")
    assert len(metrics(tmp_path / "m")) == 2
    monkeypatch.setattr(training, "train_epoch", real_epoch)
    resume(tmp_path / "m")
    assert without_timing(metrics(tmp_path / "m")) == without_timing(metrics(uninterrupted))
    weights = torch.load(tmp_path / "m" / "weights.pt", weights_only=True)
    expected = torch.load(uninterrupted / "weights.pt", weights_only=True)
    assert all(torch.equal(weights[k], expected[k]) for k in expected)


def test_epoch_records_log_gradient_norms(uninterrupted):
    first = metrics(uninterrupted)[0]
    assert first["grad_norm_max"] >= first["grad_norm_mean"] > 0


def test_failed_write_keeps_the_previous_best_model(tmp_path, monkeypatch):
    config = load_config(None, CONFIG + ["train.epochs=1"])
    train(config, tmp_path / "m")
    before = (tmp_path / "m" / "weights.pt").read_bytes()

    real_replace = os.replace

    def disk_full(source, target):
        if str(target).endswith("weights.pt"):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(NerError, match=r"weights.pt: cannot write \(No space left on device\)"):
        train(config, tmp_path / "m", overwrite=True)
    assert (tmp_path / "m" / "weights.pt").read_bytes() == before
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.endswith(".tmp")]


def test_divergence_stops_with_epoch_and_batch(tmp_path, monkeypatch):
    real_loss = training.TaggerNetwork.loss
    calls = []
    batches_per_epoch = -(-len(read_conll(SAMPLE / "train.conll")) // 8)

    def nan_on_third_batch_of_epoch_2(self, batch):
        calls.append(1)
        loss = real_loss(self, batch)
        return loss * float("nan") if len(calls) == batches_per_epoch + 3 else loss

    monkeypatch.setattr(training.TaggerNetwork, "loss", nan_on_third_batch_of_epoch_2)
    with pytest.raises(NerError, match="loss is nan in epoch 2, batch 3;.* keeps the best model"):
        train(load_config(None, CONFIG + ["train.batch_size=8"]), tmp_path / "m")
    assert Tagger.load(tmp_path / "m").predict([["Paris"]])  # the epoch-1 model is intact


def test_a_non_finite_gradient_under_a_finite_loss_is_divergence(tmp_path, monkeypatch):
    """On an epoch's last batch no later loss would show it: the weights it leaves must
    not be scored and saved as the best model."""
    real_loss = training.TaggerNetwork.loss
    calls = []
    batches_per_epoch = -(-len(read_conll(SAMPLE / "train.conll")) // 8)

    def nan_gradient_on_last_batch_of_epoch_2(self, batch):
        calls.append(1)
        loss = real_loss(self, batch)
        if len(calls) == 2 * batches_per_epoch:
            return loss + 0 * torch.sqrt(0 * loss)  # the same value; the gradient is NaN
        return loss

    monkeypatch.setattr(training.TaggerNetwork, "loss", nan_gradient_on_last_batch_of_epoch_2)
    with pytest.raises(NerError, match=f"gradient norm is nan in epoch 2, batch "
                                       f"{batches_per_epoch};.* keeps the best model"):
        train(load_config(None, CONFIG + ["train.batch_size=8"]), tmp_path / "m")
    assert Tagger.load(tmp_path / "m").predict([["Paris"]])  # the epoch-1 model is intact


class Payload:
    def __reduce__(self):
        return (open, ("PWNED", "w"))


def test_crafted_pickle_is_refused_and_never_runs(tmp_path, uninterrupted, monkeypatch):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(uninterrupted, model)
    with open(model / "weights.pt", "wb") as file:
        pickle.dump({"w": Payload()}, file)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="weights.pt: refused to load, not a plain file"):
        Tagger.load(model)
    torch.save({"w": Payload()}, model / "weights.pt")
    # the payload is named as pickle names `open`: io.open, or _io.open from Python 3.12
    with pytest.raises(ModelError, match=r"refused to load, .*\(it would build _?io\.open\)"):
        Tagger.load(model)
    shutil.copy(uninterrupted / "weights.pt", model / "weights.pt")
    torch.save({"network": Payload()}, model / "last.pt")
    with pytest.raises(ModelError, match="last.pt: refused to load"):
        resume(model)
    assert not (tmp_path / "PWNED").exists()


def test_model_directory_errors(tmp_path, uninterrupted):
    import shutil

    with pytest.raises(ModelError, match="no such model directory"):
        Tagger.load(tmp_path / "none")
    model = tmp_path / "model"
    shutil.copytree(uninterrupted, model)
    (model / "vocab.json").unlink()
    with pytest.raises(ModelError, match="incomplete model directory, missing vocab.json"):
        Tagger.load(model)
    shutil.copy(uninterrupted / "vocab.json", model / "vocab.json")
    (model / "meta.json").write_text('{"format_version": 99}')
    with pytest.raises(ModelError, match="model format version 99, this ner_rnn .* reads "
                                         "version 1"):
        Tagger.load(model)
    shutil.copy(uninterrupted / "meta.json", model / "meta.json")
    config = (model / "config.yaml").read_text().replace("hidden_size: 24", "hidden_size: 32")
    (model / "config.yaml").write_text(config)
    with pytest.raises(ModelError, match="weights do not match config.yaml: .* has shape"):
        Tagger.load(model)
    (model / "config.yaml").write_text(config.replace("hidden_size: 32", "hiden_size: 32"))
    with pytest.raises(ModelError, match="config.yaml: model.encoder.hiden_size: unknown key"):
        Tagger.load(model)


def test_resume_needs_a_checkpoint(tmp_path, uninterrupted):
    import shutil

    shutil.copytree(uninterrupted, tmp_path / "m")
    (tmp_path / "m" / "last.pt").unlink()
    with pytest.raises(ModelError, match="no last.pt checkpoint to resume from"):
        resume(tmp_path / "m")


def test_output_directory_that_holds_something_else_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ModelError, match="exists, is not empty and holds no model"):
        train(load_config(None, CONFIG), tmp_path)
