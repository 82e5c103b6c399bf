"""The training loop: batches, optimiser, schedule, dev scoring, early stopping, saving."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import torch
from tqdm import tqdm

from ner_rnn import model_dir
from ner_rnn.config import Config, TrainConfig
from ner_rnn.data.batching import Encoded, bucket_batches, collate
from ner_rnn.data.conll import Sentence, read_conll
from ner_rnn.data.schemes import convert, detect_scheme
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import ConfigError, NerError
from ner_rnn.model.tagger import TaggerNetwork
from ner_rnn.runtime import resolve_device, seed_everything, set_threads
from ner_rnn.tagging import Tagger

log = logging.getLogger(__name__)


def train(config: Config, output_dir: str | Path | None = None) -> dict:
    """Train a tagger as `config` says and write its model directory; returns the summary.

    Everything that can fail on user input (config, corpora) is checked before the
    output directory is touched.
    """
    if config.data.train is None:
        raise ConfigError("data.train: a training file is required")
    set_threads(config.threads)
    device = resolve_device(config.device)
    rng = seed_everything(config.seed)
    train_set = read_conll(config.data.train, config.data.tag_column)
    dev_set = _read_optional(config.data.dev, config)
    test_set = _read_optional(config.data.test, config)
    scheme = config.data.scheme
    if scheme == "auto":
        scheme = detect_scheme([s.tags for s in train_set])
    config = replace(config, data=replace(config.data, scheme=scheme))
    model_scheme = config.model.scheme
    train_tags = [convert(s.tags, scheme, model_scheme) for s in train_set]
    word = config.model.embeddings.word
    vocabs = Vocabularies.build((s.tokens for s in train_set), train_tags, word.min_freq,
                                word.lowercase, word.normalize_digits)
    for path, sentences in ((config.data.dev, dev_set), (config.data.test, test_set)):
        _warn_unseen_labels(path, sentences, vocabs)

    network = TaggerNetwork(config.model, len(vocabs.words), len(vocabs.chars),
                            len(vocabs.labels)).to(device)
    tagger = Tagger(config, vocabs, network, device)
    optimizer = build_optimizer(network, config.train)
    directory = model_dir.prepare_directory(output_dir or config.output_dir)
    model_dir.save_description(directory, config, vocabs)
    log.info("training on %d sentences (%s, model in %s), %d words, %d labels, %s",
             len(train_set), scheme, model_scheme, len(vocabs.words), len(vocabs.labels), device)

    encoded = [tagger.encode(s.tokens, tags) for s, tags in zip(train_set, train_tags)]
    records: list[dict] = []
    best_f1, best_epoch, stale = -1.0, 0, 0
    for epoch in range(1, config.train.epochs + 1):
        lr = config.train.lr / (1 + config.train.lr_decay * (epoch - 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        batches = bucket_batches([len(s.tokens) for s in train_set], config.train.batch_size, rng)
        started = time.perf_counter()
        loss = _train_epoch(network, optimizer, config.train, encoded, batches, device,
                            f"epoch {epoch}/{config.train.epochs}")
        seconds = time.perf_counter() - started
        record = {"epoch": epoch, "loss": loss, "lr": lr, "seconds": round(seconds, 3),
                  "sentences_per_s": round(len(train_set) / seconds, 1)}
        if dev_set is not None:
            record["dev"] = _summary(tagger.evaluate(dev_set, scheme)[0])
        records.append(record)
        f1 = record["dev"]["f1"] if dev_set is not None else float(epoch)  # no dev: keep last
        improved = f1 > best_f1
        if improved:
            best_f1, best_epoch, stale = f1, epoch, 0
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
            model_dir.save_weights(directory, network)
        else:
            stale += 1
        model_dir.save_metrics(directory, records)
        _log_epoch(record, improved)
        if config.train.patience is not None and stale >= config.train.patience:
            log.info("no dev F1 gain for %d epochs: stopping early", stale)
            break

    network.load_state_dict(best_state)
    summary = {"final": True, "best_epoch": best_epoch}
    for name, sentences in (("dev", dev_set), ("test", test_set)):
        if sentences is not None:
            summary[name] = _summary(tagger.evaluate(sentences, scheme)[0])
    records.append(summary)
    model_dir.save_metrics(directory, records)
    log.info("best epoch %d; model written to %s", best_epoch, directory)
    return summary


def build_optimizer(network: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = network.parameters()
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def _train_epoch(network: TaggerNetwork, optimizer: torch.optim.Optimizer, config: TrainConfig,
                 encoded: list[Encoded], batches: list[list[int]], device: torch.device,
                 description: str) -> float:
    """One pass over the batches; returns the mean loss per batch."""
    network.train()
    total, progress = 0.0, tqdm(total=len(encoded), desc=description, unit="sent",
                                leave=False, disable=None)
    for number, indices in enumerate(batches, start=1):
        batch = collate(encoded, indices).to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = network.loss(batch)
        if not math.isfinite(loss.item()):
            progress.close()
            raise NerError(f"training diverged: loss is {loss.item()} at {description}, "
                           f"batch {number}; lower train.lr or set train.clip_grad_norm")
        loss.backward()
        if config.clip_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(network.parameters(), config.clip_grad_norm)
        optimizer.step()
        total += loss.item()
        progress.update(len(indices))
        progress.set_postfix(loss=f"{total / number:.4f}", refresh=False)
    progress.close()
    return total / max(len(batches), 1)


def _read_optional(path: str | None, config: Config) -> list[Sentence] | None:
    return None if path is None else read_conll(path, config.data.tag_column)


def _warn_unseen_labels(path: str | None, sentences: list[Sentence] | None,
                        vocabs: Vocabularies) -> None:
    """Labels absent from training can never be predicted: they are scored as misses."""
    if sentences is None:
        return
    known = {label[2:] for label in vocabs.labels.items if label != "O"}
    unseen = Counter(tag[2:] for sentence in sentences for tag in sentence.tags
                     if tag != "O" and tag[2:] not in known)
    if unseen:
        found = ", ".join(f"{type_} ({n} tokens)" for type_, n in sorted(unseen.items()))
        log.warning("%s: entity types never seen in training, scored as misses: %s",
                    path, found)


def _summary(report: dict) -> dict:
    overall = report["overall"]
    return {"precision": overall["precision"], "recall": overall["recall"], "f1": overall["f1"],
            "token_accuracy": report["token_accuracy"]}


def _log_epoch(record: dict, improved: bool) -> None:
    dev = f"  dev F1 {100 * record['dev']['f1']:.2f}" if "dev" in record else ""
    mark = "  *best*" if improved and "dev" in record else ""
    log.info("epoch %d  loss %.4f%s%s  %.1f s  %.0f sent/s", record["epoch"], record["loss"],
             dev, mark, record["seconds"], record["sentences_per_s"])
