"""Optimisers, weight decay, the learning-rate schedule and gradient clipping."""

import json

import pytest
import torch
from torch import nn

from ner_rnn.config import TrainConfig, load_config
from ner_rnn.train.loop import train
from ner_rnn.train.optim import Optimizer, clip_gradients

CORPUS = "".join(f"{city} B-LOC\nis O\n{adjective} O\n\n{name} B-PER\nsleeps O\n\n"
                 for city, adjective, name in [("Paris", "big", "Ann"), ("Rome", "old", "Bob"),
                                               ("Oslo", "cold", "Eve"), ("Lima", "warm", "Max")])


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.1), ("adam", 0.01), ("adamw", 0.01)])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("lr_decay", [0.0, 0.5])
def test_every_optimiser_trains_with_weight_decay_and_lr_decay(tmp_path, write, optimizer, lr,
                                                               weight_decay, lr_decay):
    corpus = write("train.conll", CORPUS)
    config = load_config(None, [f"data.train={corpus}", "train.epochs=4", "train.batch_size=2",
                                "train.patience=null", "model.head.type=crf",
                                "model.embeddings.char.type=cnn", "model.embeddings.word.dim=8",
                                "model.encoder.hidden_size=8", f"train.optimizer={optimizer}",
                                f"train.lr={lr}", f"train.weight_decay={weight_decay}",
                                f"train.lr_decay={lr_decay}"])
    train(config, tmp_path / "model")
    lines = (tmp_path / "model" / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(line) for line in lines][:-1]
    assert [r["lr"] for r in epochs] == pytest.approx(
        [lr / (1 + lr_decay * (epoch - 1)) for epoch in range(1, 5)])
    assert epochs[-1]["loss"] < epochs[0]["loss"]  # it learns


def test_weight_decay_leaves_sparse_word_vectors_alone():
    words = nn.Embedding(5, 2, sparse=True)
    dense = nn.Linear(2, 1)
    network = nn.ModuleList([words, dense])
    optimizer = Optimizer(network, TrainConfig(optimizer="sgd", lr=0.1, momentum=0.0,
                                               weight_decay=0.5))
    before = words.weight.detach().clone(), dense.weight.detach().clone()
    dense(words(torch.tensor([1]))).sum().backward()
    optimizer.step()
    assert torch.equal(words.weight[[0, 2, 3, 4]], before[0][[0, 2, 3, 4]])  # untouched rows
    assert not torch.equal(words.weight[1], before[0][1])
    assert not torch.equal(dense.weight, before[1])


def test_clip_gradients_measures_dense_and_sparse_together_and_scales_above_the_limit():
    words = nn.Embedding(4, 3, sparse=True)
    dense = nn.Linear(3, 1)
    words(torch.tensor([1, 1, 2])).sum().mul(3).backward()  # row 1 twice: coalesced, it is 6
    dense(torch.ones(1, 3)).sum().backward()
    expected = torch.cat([words.weight.grad.to_dense().flatten(), dense.weight.grad.flatten(),
                          dense.bias.grad]).norm()
    norm = clip_gradients([words.weight, dense.weight, dense.bias], None)
    assert norm.item() == pytest.approx(expected.item())
    assert clip_gradients([words.weight, dense.weight, dense.bias], 100.0) == pytest.approx(
        expected.item())  # below the limit: nothing scaled
    clip_gradients([words.weight, dense.weight, dense.bias], 1.0)
    after = torch.cat([words.weight.grad.to_dense().flatten(), dense.weight.grad.flatten(),
                       dense.bias.grad]).norm()
    assert after.item() == pytest.approx(1.0, rel=1e-5)


def test_device_dependent_choices_are_resolved_when_training_starts_and_saved(tmp_path, write):
    """On the CPU `auto` becomes sparse gradients and the recursion; the saved config holds
    the choice, so a model trains the same wherever it is resumed."""
    corpus = write("train.conll", CORPUS)
    base = [f"data.train={corpus}", "train.epochs=1", "model.head.type=crf",
            "model.embeddings.word.dim=8", "model.encoder.hidden_size=8"]
    train(load_config(None, base), tmp_path / "auto")
    saved = load_config(tmp_path / "auto" / "config.yaml")
    assert (saved.model.head.partition, saved.train.embedding_gradients) == ("recursion",
                                                                             "sparse")
    train(load_config(None, [*base, "model.head.partition=tree",
                             "train.embedding_gradients=dense"]), tmp_path / "chosen")
    saved = load_config(tmp_path / "chosen" / "config.yaml")
    assert (saved.model.head.partition, saved.train.embedding_gradients) == ("tree", "dense")


@pytest.mark.parametrize("gradients, sparse", [("sparse", True), ("dense", False),
                                                ("auto", True)])
def test_embedding_gradients_choose_sparse_or_dense_word_vectors(gradients, sparse):
    words, dense = nn.Embedding(5, 2, sparse=True), nn.Linear(2, 1)
    optimizer = Optimizer(nn.ModuleList([words, dense]),
                          TrainConfig(embedding_gradients=gradients))  # on the CPU
    assert words.sparse is sparse and len(optimizer.parts) == (2 if sparse else 1)
