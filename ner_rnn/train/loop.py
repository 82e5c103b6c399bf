"""The training loop: batches, optimiser, schedule, dev scoring, early stopping, saving.

After every epoch the model directory holds the best weights so far (`weights.pt`), the
metrics log, and a `last.pt` checkpoint (network, optimiser, random states, counters)
from which `resume` continues exactly: an interrupted run, resumed, ends with the same
metrics as an uninterrupted one on CPU. A new run's directory appears whole after its
first epoch (see `output.ModelOutput`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ner_rnn import distributed, model_dir, signals
from ner_rnn.config import Config
from ner_rnn.data.batching import collate
from ner_rnn.data.conll import Sentence
from ner_rnn.data.corpus import read_corpus
from ner_rnn.data.encoding import Encoded
from ner_rnn.data.examples import Preprocessor
from ner_rnn.data.recasing import recased_copies
from ner_rnn.data.schemes import detect_scheme
from ner_rnn.data.vectors import lookup, read_vectors
from ner_rnn.errors import ConfigError, Interrupted, ModelError, NerError, shorten
from ner_rnn.model.network import TaggerNetwork, build_network
from ner_rnn.predict.evaluation import evaluate, warn_unseen_types
from ner_rnn.runtime import resolve_device, seed_everything, set_threads
from ner_rnn.train.checkpoint import Progress, checkpoint, restore_random_states
from ner_rnn.train.optim import Optimizer, clip_gradients, embedding_gradients
from ner_rnn.train.output import ModelOutput
from ner_rnn.train.word_dropout import WordDropout

log = logging.getLogger(__name__)


@dataclass
class Corpora:
    train: list[Sentence]
    dev: list[Sentence] | None
    test: list[Sentence] | None
    recased: list[Sentence] = field(default_factory=list)  # train.augment_casing's copies
    # each scored file's scheme, detected from its own tags as `evaluate` does (not the
    # training file's: BIOES dev data under IOB2 training is scored, and selects, as BIOES)
    schemes: dict[str, str] = field(init=False)

    def __post_init__(self):
        self.schemes = {name: detect_scheme([s.tags for s in sentences])
                        for name, sentences in (("dev", self.dev), ("test", self.test))
                        if sentences is not None}


@dataclass
class Run:
    """One training run: what `train` builds, `resume` restores and every epoch advances."""

    config: Config  # resolved: data.scheme is the training data's
    preprocessor: Preprocessor
    network: TaggerNetwork
    model: torch.nn.Module  # computes the loss: the network, or its DDP wrapper
    optimizer: Optimizer
    corpora: Corpora
    examples: Encoded  # the training sentences, encoded once
    rng: np.random.Generator  # shuffles the batches
    word_dropout: WordDropout | None
    output: ModelOutput | None  # None: nothing is saved (benchmarks; ranks other than 0)
    world: distributed.World = distributed.ALONE
    progress: Progress = field(default_factory=Progress)

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    @property
    def finished(self) -> bool:
        patience = self.config.train.patience
        return (self.progress.epoch >= self.config.train.epochs
                or patience is not None and self.progress.stale >= patience)


def train(config: Config, output_dir: str | Path | None = None, overwrite: bool = False
          ) -> dict:
    """Train a tagger as `config` says and write its model directory; returns the summary.

    Everything that can fail on user input (config, corpora, the destination) is checked
    before anything is written; a destination holding a model is replaced only with
    `overwrite`.
    """
    if config.data.train is None:
        raise ConfigError("data.train: a training file is required")
    set_threads(config.threads)
    world, device = distributed.join(resolve_device(config.device))
    rng = seed_everything(config.seed)  # the same seed on every rank: the same model
    corpora = read_corpora(config)
    output = (ModelOutput.new(output_dir or config.output_dir, overwrite)
              if world.is_main else None)
    try:
        run = start(config, corpora, device, rng, output, world)
    except BaseException:
        if output is not None:
            output.abandon()
            output.release()
        raise
    if world.is_main:
        log.info("training on %d sentences%s (%s, model in %s), %d words, %d labels, %s%s",
                 len(corpora.train),
                 f" and {len(corpora.recased)} re-cased copies" if corpora.recased else "",
                 run.config.data.scheme, run.config.model.scheme,
                 len(run.preprocessor.vocabs.words), len(run.preprocessor.vocabs.labels),
                 device, f", {world.size} processes" if world.active else "")
    return fit(run)


def start(config: Config, corpora: Corpora, device: torch.device, rng: np.random.Generator,
          output: ModelOutput | None = None, world: distributed.World = distributed.ALONE) -> Run:
    """A new run: scheme resolved, vocabularies built, network initialised on `device`."""
    preprocessor = Preprocessor.for_training(_resolve_by_device(config, device), corpora.train)
    config, vocabs = preprocessor.config, preprocessor.vocabs
    for path, sentences in ((config.data.dev, corpora.dev), (config.data.test, corpora.test)):
        if sentences is not None:
            warn_unseen_types(path, sentences, vocabs)
    vectors = _pretrained_rows(config, preprocessor, corpora)
    network = build_network(config, vocabs)
    if vectors is not None:
        network.embedder.set_word_vectors(vectors)
    network.to(device)
    if output is not None:
        model_dir.save_description(output.directory, config, vocabs)
    return _assemble(config, preprocessor, network, corpora, rng, output, world)


def resume(directory: str | Path) -> dict:
    """Continue the run whose model directory is `directory` from its last epoch."""
    directory = Path(directory)
    config, vocabs, network = model_dir.load_model(directory)
    set_threads(config.threads)
    world, device = distributed.join(resolve_device(config.device))
    network.to(device)
    output = ModelOutput.existing(directory) if world.is_main else None
    try:
        run = _assemble(config, Preprocessor(config, vocabs), network, read_corpora(config),
                        None, output, world)
        saved = model_dir.load_checkpoint(directory, network)
        network.load_state_dict(saved["network"])
        try:  # what load_checkpoint cannot know: the optimiser's and the generators' formats
            run.optimizer.load_state_dict(saved["optimizer"])
            run.rng = restore_random_states(saved)
            run.progress = Progress(**saved["progress"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ModelError(f"{directory / model_dir.CHECKPOINT}: does not fit this model "
                             f"({shorten(str(error))})") from None
    except BaseException:
        if output is not None:
            output.release()
        raise
    log.info("resuming %s after epoch %d", directory, run.progress.epoch)
    return fit(run)


def _assemble(config: Config, preprocessor: Preprocessor, network: TaggerNetwork,
              corpora: Corpora, rng: np.random.Generator | None, output: ModelOutput | None,
              world: distributed.World) -> Run:
    device = next(network.parameters()).device
    model = network
    if world.active:
        model = DistributedDataParallel(network, device_ids=[device] if device.type == "cuda"
                                        else None)
    return Run(config, preprocessor, network, model, Optimizer(network, config.train), corpora,
               preprocessor.examples(corpora.train + corpora.recased, str(config.data.train)),
               rng,
               WordDropout.for_corpus(preprocessor.vocabs, corpora.train,
                                      config.model.embeddings.word.singleton_unk, device),
               output, world)


def fit(run: Run) -> dict:
    """Epochs from `run.progress.epoch + 1` until the budget or the patience runs out,
    then the final summary (on rank 0; other ranks return {}); the destination stays
    locked until the summary is written."""
    try:
        return _fit(run)
    finally:
        if run.output is not None:
            run.output.release()


def _fit(run: Run) -> dict:
    try:
        while not run.finished:
            run_epoch(run)
    except KeyboardInterrupt:
        raise Interrupted(_interrupted(run)) from None
    except NerError as error:  # divergence, a failed write: say what the directory holds
        state = "" if run.output is None else f"; {run.output.state()}"
        raise type(error)(f"{error}{state}") from None
    finally:
        if run.output is not None:
            run.output.abandon()  # a run that never saved leaves no trace
    if (run.world.is_main and run.config.train.patience is not None
            and run.progress.stale >= run.config.train.patience):
        log.info("no dev F1 gain for %d epochs: stopped early", run.progress.stale)
    distributed.leave(run.world)
    if run.output is None:
        return {}
    directory = run.output.path
    run.network.load_state_dict(model_dir.load_weights(directory, run.network))
    summary = {"final": True, "best_epoch": run.progress.best_epoch}
    for name, sentences in (("dev", run.corpora.dev), ("test", run.corpora.test)):
        if sentences is not None:
            report = evaluate(run.network, run.preprocessor, sentences,
                              run.corpora.schemes[name])[0]
            summary[name] = _summary(report)
    model_dir.save_metrics(directory, [*run.progress.records, summary])
    log.info("best epoch %d; model written to %s", run.progress.best_epoch, directory)
    return summary


def run_epoch(run: Run) -> None:
    """Train one epoch; on rank 0 score dev, keep the best weights, log, checkpoint.

    Under torchrun each rank trains on its shard of the batches (gradients all-reduced
    by DistributedDataParallel); rank 0 scores, saves, and tells the others whether to
    go on.
    """
    config, progress = run.config, run.progress
    epoch = progress.epoch + 1
    lr = config.train.lr / (1 + config.train.lr_decay * (epoch - 1))
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    batches = distributed.shard(run.preprocessor.batches(run.examples, config.train.batch_size,
                                                         run.rng), run.world)
    started = time.perf_counter()
    stats = train_epoch(run, batches, epoch)
    seconds = time.perf_counter() - started
    record = {"epoch": epoch, **stats, "lr": lr, "seconds": round(seconds, 3),
              "sentences_per_s": round(len(run.examples) / seconds, 1)}
    if not run.world.is_main:
        progress.epoch, progress.stale = distributed.broadcast(None, run.world)
        return
    if run.corpora.dev is not None:
        report = evaluate(run.network, run.preprocessor, run.corpora.dev,
                          run.corpora.schemes["dev"])[0]
        record["dev"] = _summary(report)
    # without a dev set there is nothing to select on: the latest epoch is kept
    improved = run.corpora.dev is None or record["dev"]["f1"] > progress.best_f1
    if improved:
        progress.best_f1 = record["dev"]["f1"] if "dev" in record else progress.best_f1
        progress.best_epoch, progress.stale = epoch, 0
    else:
        progress.stale += 1
    with signals.held():  # the files and the epoch the interrupt message names agree
        progress.epoch = epoch
        progress.records.append(record)
        _save(run, improved)
    _log_epoch(record, improved and "dev" in record)
    distributed.broadcast((progress.epoch, progress.stale), run.world)


def train_epoch(run: Run, batches: list[list[list[int]]], epoch: int) -> dict:
    """One pass over the batches (each a list of encoder rows, see `collate`); returns
    mean loss and gradient norms (before clipping).

    Losses and norms stay on the device; every CHECK_EVERY steps (and at the end) one
    read looks for a non-finite loss or gradient norm, so a GPU never waits for the host
    in between. Divergence still names the first batch where one was not finite.
    """
    config, optimizer, device = run.config.train, run.optimizer, run.device
    run.model.train()
    losses, norms = [], []  # 0-dim tensors, one per step
    with tqdm(total=sum(len(row) for rows in batches for row in rows),
              desc=f"epoch {epoch}/{config.epochs}", unit="sent", leave=False,
              disable=None) as bar:
        for number, rows in enumerate(batches, start=1):
            batch = collate(run.examples, rows)
            if device.type != "cpu":  # collate builds it on the CPU
                batch = batch.to(device)
            if run.word_dropout is not None:
                batch.rows.words = run.word_dropout(batch.rows.words)
            optimizer.zero_grad()
            loss = run.model(batch)
            loss.backward()
            norms.append(clip_gradients(run.model.parameters(), config.clip_grad_norm))
            optimizer.step()
            losses.append(loss.detach())
            bar.update(len(batch.indices))
            if number % CHECK_EVERY == 0 or number == len(batches):
                mean = _check_finite(losses, norms, number - (number - 1) % CHECK_EVERY,
                                     epoch)
                bar.set_postfix(loss=f"{mean:.4f}", refresh=False)
    if not losses:
        return {"loss": 0.0, "grad_norm_mean": 0.0, "grad_norm_max": 0.0}
    norm = torch.stack(norms).double()  # (steps,)
    return {"loss": torch.stack(losses).double().mean().item(),
            "grad_norm_mean": norm.mean().item(), "grad_norm_max": norm.max().item()}


CHECK_EVERY = 50  # training steps between two reads of the losses


def _check_finite(losses: list[torch.Tensor], norms: list[torch.Tensor], first: int,
                  epoch: int) -> float:
    """Raise if a loss or a gradient norm from batch `first` on is not finite (naming the
    first such batch; a finite loss can have a NaN gradient, which the next loss shows,
    unless the epoch ends first); returns the mean loss so far."""
    recent = torch.stack(losses[first - 1:])  # (steps since the last check,)
    recent_norms = torch.stack(norms[first - 1:]).to(recent.device)  # (steps,)
    finite = torch.isfinite(recent) & torch.isfinite(recent_norms)
    if not bool(finite.all()):
        offset = int((~finite).nonzero()[0])
        what, value = ("loss", recent[offset]) if not torch.isfinite(recent[offset]) else (
            "gradient norm", recent_norms[offset])
        raise NerError(f"training diverged: {what} is {value.item()} in epoch {epoch}, "
                       f"batch {first + offset}; lower train.lr or set train.clip_grad_norm")
    return torch.stack(losses).mean().item()


def _resolve_by_device(config: Config, device: torch.device) -> Config:
    """`auto` in the choices that depend on the device (`model.head.partition`,
    `train.embedding_gradients`) made definite, so the saved config trains the same model
    wherever the run is resumed."""
    head, options = config.model.head, config.train
    if head.partition == "auto":
        head = replace(head, partition="tree" if device.type == "cuda" else "recursion")
    if options.embedding_gradients == "auto":
        options = replace(options, embedding_gradients=embedding_gradients(device))
    return replace(config, model=replace(config.model, head=head), train=options)


def read_corpora(config: Config) -> Corpora:
    def optional(path: str | None) -> list[Sentence] | None:
        return None if path is None else read_corpus(path, config.data)

    train = read_corpus(config.data.train, config.data)
    return Corpora(train, optional(config.data.dev), optional(config.data.test),
                   recased_copies(train, config.train.augment_casing, config.seed))


def _save(run: Run, improved: bool) -> None:
    """The epoch's files; after the first epoch the new directory moves into place."""
    if run.output is None:
        return
    directory = run.output.directory
    if improved:
        model_dir.save_weights(directory, run.network)
    model_dir.save_metrics(directory, run.progress.records)
    model_dir.save_checkpoint(directory, checkpoint(run.network, run.optimizer.state_dict(),
                                                    run.rng, run.progress))
    run.output.publish()


def _interrupted(run: Run) -> str:
    epoch = run.progress.epoch
    if run.output is None or not run.output.published:
        where = "" if run.output is None else f"; {run.output.state()}"
        return f"interrupted in epoch {epoch + 1}{where}"
    directory = run.output.path
    return (f"interrupted in epoch {epoch + 1}; {directory} keeps the best model and the "
            f"checkpoint after epoch {epoch}; continue with: ner-rnn train --resume {directory}")


def _pretrained_rows(config: Config, preprocessor: Preprocessor, corpora: Corpora
                     ) -> dict[int, torch.Tensor] | None:
    """Row -> pretrained vector for the vocabulary (extended by dev/test words if asked)."""
    embeddings = config.model.embeddings
    if embeddings.pretrained is None:
        return None
    vocabs = preprocessor.vocabs
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


def _summary(report: dict) -> dict:
    overall = report["overall"]
    return {"precision": overall["precision"], "recall": overall["recall"], "f1": overall["f1"],
            "token_accuracy": report["token_accuracy"]}


def _log_epoch(record: dict, improved: bool) -> None:
    dev = f"  dev F1 {100 * record['dev']['f1']:.2f}" if "dev" in record else ""
    log.info("epoch %d  loss %.4f%s%s  %.1f s  %.0f sent/s", record["epoch"], record["loss"],
             dev, "  *best*" if improved else "", record["seconds"], record["sentences_per_s"])
