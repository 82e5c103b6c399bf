"""The training loop: batches, optimiser, schedule, dev scoring, early stopping, saving.

After every epoch the model directory holds the best weights so far (`weights.pt`), the
metrics log, and a `last.pt` checkpoint (network, optimiser, random states, counters)
from which `resume` continues exactly: an interrupted run, resumed, ends with the same
metrics as an uninterrupted one on CPU.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ner_rnn import distributed, model_dir
from ner_rnn.config import Config, TrainConfig
from ner_rnn.data.batching import Encoded, batch_rows, collate
from ner_rnn.data.conll import Sentence, read_conll
from ner_rnn.data.schemes import convert, detect_scheme
from ner_rnn.data.vectors import lookup, read_vectors
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import ConfigError, Interrupted, ModelError, NerError, shorten
from ner_rnn.model.network import TaggerNetwork, build_network
from ner_rnn.train.optim import Optimizer, clip_gradients
from ner_rnn.runtime import resolve_device, seed_everything, set_threads
from ner_rnn.serve.tagger import Tagger, warn_unseen_types

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """Counters that early stopping and resuming need, saved in `last.pt`."""

    epoch: int = 0  # epochs completed
    best_f1: float = -1.0
    best_epoch: int = 0
    stale: int = 0  # epochs since the best one
    records: list[dict] = field(default_factory=list)  # one metrics record per epoch


@dataclass
class Corpora:
    train: list[Sentence]
    dev: list[Sentence] | None
    test: list[Sentence] | None


def train(config: Config, output_dir: str | Path | None = None) -> dict:
    """Train a tagger as `config` says and write its model directory; returns the summary.

    Everything that can fail on user input (config, corpora) is checked before the
    output directory is touched.
    """
    if config.data.train is None:
        raise ConfigError("data.train: a training file is required")
    set_threads(config.threads)
    world, device = distributed.join(resolve_device(config.device))
    rng = seed_everything(config.seed)  # the same seed on every rank: the same model
    corpora = _read_corpora(config)
    config, vocabs = prepare_vocabularies(config, corpora.train)
    for path, sentences in ((config.data.dev, corpora.dev), (config.data.test, corpora.test)):
        if sentences is not None:
            warn_unseen_types(path, sentences, vocabs)
    vectors = _pretrained_rows(config, vocabs, corpora)
    network = build_network(config, vocabs)
    if vectors is not None:
        network.embedder.set_word_vectors(vectors)
    network.to(device)
    optimizer = Optimizer(network, config.train)
    directory = Path(output_dir or config.output_dir)
    if world.is_main:
        model_dir.prepare_directory(directory)
        model_dir.save_description(directory, config, vocabs)
        log.info("training on %d sentences (%s, model in %s), %d words, %d labels, %s%s",
                 len(corpora.train), config.data.scheme, config.model.scheme, len(vocabs.words),
                 len(vocabs.labels), device, f", {world.size} processes" if world.active else "")
    return _run(config, vocabs, network, optimizer, corpora, rng, Progress(), directory, world)


def prepare_vocabularies(config: Config, sentences: list[Sentence]
                         ) -> tuple[Config, Vocabularies]:
    """Resolve `data.scheme` (detected from the training tags when `auto`) and build the
    vocabularies from the training sentences, their tags in the model's scheme."""
    scheme = config.data.scheme
    if scheme == "auto":
        scheme = detect_scheme([s.tags for s in sentences])
    config = replace(config, data=replace(config.data, scheme=scheme))
    tags = [convert(s.tags, scheme, config.model.scheme) for s in sentences]
    word = config.model.embeddings.word
    vocabs = Vocabularies.build((s.tokens for s in sentences), tags, word.min_freq,
                                word.lowercase, word.normalize_digits)
    return config, vocabs


def resume(directory: str | Path) -> dict:
    """Continue the run whose model directory is `directory` from its last epoch."""
    directory = Path(directory)
    config, vocabs, network = model_dir.load_model(directory)
    set_threads(config.threads)
    world, device = distributed.join(resolve_device(config.device))
    network.to(device)
    optimizer = Optimizer(network, config.train)
    checkpoint = model_dir.load_checkpoint(directory, network)
    network.load_state_dict(checkpoint["network"])
    rng = np.random.default_rng()
    try:  # what load_checkpoint cannot know: the optimiser's and the generators' formats
        optimizer.load_state_dict(checkpoint["optimizer"])
        rng.bit_generator.state = checkpoint["numpy_rng"]
        torch.set_rng_state(checkpoint["torch_rng"])
        random.setstate(_as_tuple(checkpoint["python_rng"]))
        progress = Progress(**checkpoint["progress"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ModelError(f"{directory / model_dir.CHECKPOINT}: does not fit this model "
                         f"({shorten(str(error))})") from None
    log.info("resuming %s after epoch %d", directory, progress.epoch)
    return _run(config, vocabs, network, optimizer, _read_corpora(config), rng, progress,
                directory, world)


def _run(config: Config, vocabs: Vocabularies, network: TaggerNetwork,
         optimizer: Optimizer, corpora: Corpora, rng: np.random.Generator,
         progress: Progress, directory: Path, world: distributed.World) -> dict:
    """Epochs from `progress.epoch + 1` on, then the final summary (on rank 0)."""
    device = next(network.parameters()).device
    tagger = Tagger(config, vocabs, network, device)
    scheme, model_scheme = config.data.scheme, config.model.scheme
    encoded = [tagger.encode(s.tokens, convert(s.tags, scheme, model_scheme))
               for s in corpora.train]
    patience = config.train.patience
    try:
        _epochs(config, tagger, optimizer, corpora, encoded, rng, progress, directory, world)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted in epoch {progress.epoch + 1}; {directory} keeps the best model and "
            f"the checkpoint after epoch {progress.epoch}; continue with: "
            f"ner-rnn train --resume {directory}") from None
    if patience is not None and progress.stale >= patience:
        log.info("no dev F1 gain for %d epochs: stopped early", progress.stale)
    distributed.leave(world)
    if not world.is_main:
        return {}  # rank 0 scores and reports
    network.load_state_dict(model_dir.load_weights(directory, network))
    summary = {"final": True, "best_epoch": progress.best_epoch}
    for name, sentences in (("dev", corpora.dev), ("test", corpora.test)):
        if sentences is not None:
            summary[name] = _summary(tagger.evaluate(sentences, scheme)[0])
    model_dir.save_metrics(directory, [*progress.records, summary])
    log.info("best epoch %d; model written to %s", progress.best_epoch, directory)
    return summary


def _epochs(config: Config, tagger: Tagger, optimizer: Optimizer,
            corpora: Corpora, encoded: list[Encoded], rng: np.random.Generator,
            progress: Progress, directory: Path, world: distributed.World) -> None:
    """Train, score and save epoch after epoch until the budget or patience runs out.

    Under torchrun each rank trains on its shard of the batches (gradients all-reduced
    by DistributedDataParallel); rank 0 scores, saves, and tells the others whether to
    go on.
    """
    network, device = tagger.network, tagger.device
    model = network
    if world.active:
        model = DistributedDataParallel(network, device_ids=[device] if device.type == "cuda"
                                        else None)
    word_dropout = WordDropout.for_corpus(tagger.vocabs, corpora.train,
                                          config.model.embeddings.word.singleton_unk, device)
    lengths = [len(s.words) for s in encoded]
    documents = [s.document for s in corpora.train]
    patience = config.train.patience
    while progress.epoch < config.train.epochs and (patience is None or progress.stale < patience):
        epoch = progress.epoch + 1
        lr = config.train.lr / (1 + config.train.lr_decay * (epoch - 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        batches = distributed.shard(batch_rows(documents, lengths, config.model.document_context,
                                               config.train.batch_size, rng), world)
        started = time.perf_counter()
        stats = train_epoch(model, optimizer, config.train, encoded, batches, device,
                            epoch, f"epoch {epoch}/{config.train.epochs}", word_dropout)
        seconds = time.perf_counter() - started
        record = {"epoch": epoch, **stats, "lr": lr, "seconds": round(seconds, 3),
                  "sentences_per_s": round(len(encoded) / seconds, 1)}
        if not world.is_main:
            progress.epoch, progress.stale = distributed.broadcast(None, world)
            continue
        if corpora.dev is not None:
            record["dev"] = _summary(tagger.evaluate(corpora.dev, config.data.scheme)[0])
        f1 = record["dev"]["f1"] if corpora.dev is not None else float(epoch)  # no dev: last
        improved = f1 > progress.best_f1
        if improved:
            progress.best_f1, progress.best_epoch, progress.stale = f1, epoch, 0
            model_dir.save_weights(directory, network)
        else:
            progress.stale += 1
        progress.epoch = epoch
        progress.records.append(record)
        model_dir.save_metrics(directory, progress.records)
        model_dir.save_checkpoint(directory, _checkpoint(network, optimizer, rng, progress))
        _log_epoch(record, improved and corpora.dev is not None)
        distributed.broadcast((progress.epoch, progress.stale), world)


def train_epoch(model: torch.nn.Module, optimizer: Optimizer, config: TrainConfig,
                 encoded: list[Encoded], batches: list[list[list[int]]], device: torch.device,
                 epoch: int, description: str, word_dropout: WordDropout | None = None) -> dict:
    """One pass over the batches (each a list of encoder rows, see `collate`); returns
    mean loss and gradient norms (before clipping).

    `model(batch)` is the loss: a TaggerNetwork, or one wrapped in DistributedDataParallel.
    """
    model.train()
    total_loss, total_norm, largest_norm = 0.0, 0.0, 0.0
    with tqdm(total=len(encoded), desc=description, unit="sent", leave=False,
              disable=None) as bar:
        for number, rows in enumerate(batches, start=1):
            batch = collate(encoded, rows).to(device)
            if word_dropout is not None:
                batch.words = word_dropout(batch.words)
            optimizer.zero_grad()
            loss = model(batch)
            value = loss.item()
            if not math.isfinite(value):
                raise NerError(f"training diverged: loss is {value} in epoch {epoch}, batch "
                               f"{number}; the best model so far is kept; lower train.lr or "
                               "set train.clip_grad_norm")
            loss.backward()
            norm = clip_gradients(model.parameters(), config.clip_grad_norm)
            optimizer.step()
            total_loss += value
            total_norm += norm
            largest_norm = max(largest_norm, norm)
            bar.update(len(batch.indices))
            bar.set_postfix(loss=f"{total_loss / number:.4f}", refresh=False)
    count = max(len(batches), 1)
    return {"loss": total_loss / count, "grad_norm_mean": total_norm / count,
            "grad_norm_max": largest_norm}


class WordDropout:
    """Replace words seen once in training by <unk> with probability p (Lample et al.
    2016), so the model learns what to do with words it does not know."""

    def __init__(self, singletons: torch.Tensor, p: float, unk_id: int):
        self.singletons, self.p, self.unk_id = singletons, p, unk_id  # bool (words,)

    @classmethod
    def for_corpus(cls, vocabs: Vocabularies, sentences: list[Sentence], p: float,
                   device: torch.device) -> WordDropout | None:
        if p == 0:
            return None
        counts = Counter(vocabs.normalize(t) for sentence in sentences for t in sentence.tokens)
        singletons = torch.zeros(len(vocabs.words), dtype=torch.bool)
        once = [vocabs.words.id(w) for w, n in counts.items() if n == 1]
        singletons[torch.tensor(once, dtype=torch.long)] = True
        singletons[vocabs.words.unk_id] = False
        return cls(singletons.to(device), p, vocabs.words.unk_id)

    def __call__(self, words: torch.Tensor) -> torch.Tensor:
        """words: long (batch, time) -> same, some singletons replaced by <unk>."""
        drop = self.singletons[words] & (torch.rand(words.shape, device=words.device) < self.p)
        return torch.where(drop, self.unk_id, words)


def _checkpoint(network: TaggerNetwork, optimizer: Optimizer,
                rng: np.random.Generator, progress: Progress) -> dict:
    """Everything `resume` needs, as tensors and plain Python values (no objects)."""
    return {
        "network": network.state_dict(),
        "optimizer": optimizer.state_dict(),
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
        "progress": vars(progress),
    }


def _as_tuple(value):
    """random.setstate needs tuples where the checkpoint may hold lists."""
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def _pretrained_rows(config: Config, vocabs: Vocabularies, corpora: Corpora
                     ) -> dict[int, torch.Tensor] | None:
    """Row -> pretrained vector for the vocabulary (extended by dev/test words if asked)."""
    embeddings = config.model.embeddings
    if embeddings.pretrained is None:
        return None
    extra = [vocabs.normalize(token) for sentences in (corpora.dev, corpora.test)
             if sentences and embeddings.add_pretrained_words
             for sentence in sentences for token in sentence.tokens]
    wanted = set(vocabs.words.items) | set(extra)
    wanted |= {word.lower() for word in wanted}
    vectors, dim = read_vectors(embeddings.pretrained, wanted)
    if dim != embeddings.word.dim:
        raise ConfigError(f"model.embeddings.word.dim: expected {dim} to match "
                          f"{embeddings.pretrained}, got {embeddings.word.dim}")
    vocabs.extend_words(w for w in extra if w in vectors or w.lower() in vectors)
    rows = lookup(vocabs.words.items, vectors)
    log.info("pretrained vectors: %d of %d vocabulary words found (%.1f%%) in %s", len(rows),
             len(vocabs.words), 100 * len(rows) / len(vocabs.words), embeddings.pretrained)
    return {row: torch.from_numpy(vector) for row, vector in rows.items()}


def _read_corpora(config: Config) -> Corpora:
    def optional(path: str | None) -> list[Sentence] | None:
        return None if path is None else read_conll(path, config.data.tag_column)

    return Corpora(read_conll(config.data.train, config.data.tag_column),
                   optional(config.data.dev), optional(config.data.test))


def _summary(report: dict) -> dict:
    overall = report["overall"]
    return {"precision": overall["precision"], "recall": overall["recall"], "f1": overall["f1"],
            "token_accuracy": report["token_accuracy"]}


def _log_epoch(record: dict, improved: bool) -> None:
    dev = f"  dev F1 {100 * record['dev']['f1']:.2f}" if "dev" in record else ""
    log.info("epoch %d  loss %.4f%s%s  %.1f s  %.0f sent/s", record["epoch"], record["loss"],
             dev, "  *best*" if improved else "", record["seconds"], record["sentences_per_s"])
