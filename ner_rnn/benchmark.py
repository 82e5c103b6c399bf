"""Throughput of training and tagging, side by side with the bare torch kernel bound.

All figures come from one process and one run, after warm-up, on the same batches:
  train: the real training loop (collation, forward, backward, clipping, optimiser step)
         vs. the bound: embedding + exact padded BiLSTM + linear + cross-entropy + step,
         timed in alternating runs of ALTERNATE batches, so a busy machine slows both;
  tag:   raw lines -> tokenise -> model -> JSON lines (end to end), the model part alone
         (decoding pre-built batches), and the bound's forward pass + argmax.
and, counted by torch.profiler over a few training steps, the top-level aten ops per
step (each one a kernel launch, or several, on a GPU: the figure that says whether a GPU
can pay off), with `profile` also the ops that take the most time.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import nn

from ner_rnn import model_dir
from ner_rnn.config import Config
from ner_rnn.data.batching import collate
from ner_rnn.data.conll import read_conll
from ner_rnn.data.recasing import recased_copies
from ner_rnn.errors import NerError
from ner_rnn.model.steps import gather_steps, reverse_within_lengths
from ner_rnn.runtime import resolve_device, seed_everything, set_threads, tagging_workers
from ner_rnn.serve.formats import format_result
from ner_rnn.serve.tagger import Tagger
from ner_rnn.train.loop import Corpora, start, train_epoch


class BareBiLSTM(nn.Module):
    """The bound: embedding + exact padded BiLSTM + linear, nothing else."""

    def __init__(self, num_words: int, input_size: int, hidden_size: int, num_tags: int):
        super().__init__()
        self.embedding = nn.Embedding(num_words, input_size, padding_idx=0)
        self.forward_lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.backward_lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.output = nn.Linear(2 * hidden_size, num_tags)

    def forward(self, words: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embedding(words)  # (batch, time, input)
        index = reverse_within_lengths(lengths, words.size(1))  # (batch * time,)
        backward = gather_steps(self.backward_lstm(gather_steps(x, index))[0], index)
        return self.output(torch.cat([self.forward_lstm(x)[0], backward], dim=-1))


ALTERNATE = 50  # training batches timed for ours, then for the bound, in turn
PROFILED_STEPS = 50  # training steps counted by the profiler
TOP_OPS = 15  # ops listed by `profile`


def run(config: Config, train_file: str, tag_file: str | None, scale: int = 1,
        stream_lines: list[int] = (), workers: list[int | None] = (None,),
        profile: bool = False) -> dict:
    """Measure everything; `scale` repeats the training corpus (to check linear cost);
    `stream_lines` times the whole `tag` command on generated inputs of those sizes,
    once with each number of `workers` (None: tag's default); `profile` adds the
    training step's top ops by self time."""
    set_threads(config.threads)
    device = resolve_device(config.device)
    rng = seed_everything(config.seed)
    sentences = read_conll(train_file, config.data.tag_column) * scale
    # every input read before anything runs: a bad --tag file is found at once
    tag_sentences = None if tag_file is None else read_conll(tag_file, tagged=False)
    copies = recased_copies(sentences, config.train.augment_casing, config.seed)
    run = start(config, Corpora(sentences, None, None, copies), device, rng)
    config, network = run.config, run.network
    tagger = Tagger(config, run.preprocessor.vocabs, network, device)
    batches = run.preprocessor.batches(run.examples, config.train.batch_size, rng)
    tokens = sum(len(s.tokens) for s in sentences)

    def train_pass(chosen: list[list[list[int]]]) -> None:
        train_epoch(run, chosen, 0)

    bare = BareBiLSTM(len(run.preprocessor.vocabs.words), network.embedder.output_size,
                      config.model.encoder.hidden_size, len(tagger.vocabs.labels)).to(device)
    bare_optimizer = torch.optim.SGD(bare.parameters(), lr=config.train.lr)
    prebuilt = [collate(run.examples, b).to(device) for b in batches]

    def bare_pass(chosen: list) -> None:
        bare.train()
        for batch in chosen:
            bare_optimizer.zero_grad(set_to_none=True)
            scores = bare(batch.rows.words, batch.rows.lengths)  # (rows, row time, tags)
            sentences = batch.sentences
            if len(batch.indices) > len(batch.rows.lengths):  # windows: back to sentences
                scores = sentences.from_rows(scores)  # (batch, time, tags)
            mask = sentences.mask
            nn.functional.cross_entropy(scores[mask], sentences.tags[mask]).backward()
            bare_optimizer.step()

    train_pass(batches[:20])  # warm-up
    bare_pass(prebuilt[:20])
    train_seconds = bound_seconds = 0.0
    for first in range(0, len(batches), ALTERNATE):  # side by side: load drifts hit both
        chunk = slice(first, first + ALTERNATE)
        train_seconds += _timed(partial(train_pass, batches[chunk]), lambda: None, device)
        bound_seconds += _timed(partial(bare_pass, prebuilt[chunk]), lambda: None, device)
    profiled = batches[:PROFILED_STEPS]
    ops, top = _profiled(lambda: train_pass(profiled), len(profiled), device, profile)
    result = {
        "train": {"sentences_per_s": len(sentences) / train_seconds,
                  "tokens_per_s": tokens / train_seconds,
                  "bound_tokens_per_s": tokens / bound_seconds,
                  "epoch_seconds": train_seconds,
                  "ops_per_step": ops},
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "threads": torch.get_num_threads(),
    }
    if profile:
        result["train"]["top_ops"] = top
    if tag_sentences is not None:
        result["tag"] = _tag_figures(tagger, bare, tag_sentences, device)
        if stream_lines:
            result["tag"]["whole_command"] = whole_command(tagger, tag_sentences,
                                                           list(stream_lines), list(workers))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _tag_figures(tagger: Tagger, bare: BareBiLSTM, sentences: list, device) -> dict:
    lines = [" ".join(s.tokens) for s in sentences]
    tokens = sum(len(s.tokens) for s in sentences)
    size = tagger.batch_size

    def end_to_end(chosen: list[str]) -> None:
        out = io.StringIO()
        for result in tagger.tag(chosen):
            out.write(format_result(result, "json"))

    prep = tagger.preprocessor
    examples = [prep.example(s.tokens, document=s.document) for s in sentences]
    batches = [collate(examples, b).to(device) for b in prep.batches(examples, size)]
    tagger.network.eval()
    bare.eval()

    def model_only(chosen: list) -> None:
        with torch.inference_mode():
            for batch in chosen:
                tagger.network.decode(batch)

    def bound(chosen: list) -> None:
        with torch.inference_mode():
            for batch in chosen:
                bare(batch.rows.words, batch.rows.lengths).argmax(-1).tolist()

    whole = _timed(lambda: end_to_end(lines), lambda: end_to_end(lines[:500]), device)
    model = _timed(lambda: model_only(batches), lambda: model_only(batches[:2]), device)
    forward = _timed(lambda: bound(batches), lambda: bound(batches[:2]), device)
    return {"sentences_per_s": len(lines) / whole, "tokens_per_s": tokens / whole,
            "model_tokens_per_s": tokens / model, "bound_tokens_per_s": tokens / forward}


def whole_command(tagger: Tagger, tag_sentences: list, line_counts: list[int],
                  workers: list[int | None] = (None,)) -> list[dict]:
    """`ner-rnn tag --input FILE --output FILE` as a separate process on generated inputs
    of each size (the lines of `tag_sentences`, repeated), once with each number of `workers`
    (None: tag's default): wall-clock sentences/s of the whole command, start-up
    included, and the peak memory of its main process and of its largest worker, which
    stay flat when tagging streams."""
    sentences = [" ".join(s.tokens) for s in tag_sentences]
    device = tagger.device
    results = []
    with tempfile.TemporaryDirectory() as temp:
        model = Path(temp) / "model"
        model.mkdir()
        model_dir.save_description(model, tagger.config, tagger.vocabs)
        model_dir.save_weights(model, tagger.network)
        for count in line_counts:
            source, output = Path(temp) / "input.txt", Path(temp) / "output.jsonl"
            with open(source, "w", encoding="utf-8") as out:
                out.writelines(sentences[i % len(sentences)] + "\n" for i in range(count))
            for chosen in workers:
                used = tagging_workers(device) if chosen is None else chosen
                command = [sys.executable, "-c", _MEASURED_TAG, "--model", str(model),
                           "--input", str(source), "--output", str(output),
                           "--device", device.type, "--workers", str(used)]
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                seconds = time.perf_counter() - started
                if done.returncode != 0:  # say why, not only that it failed
                    said = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
                    raise NerError(f"benchmark: the whole tag command on {count} lines "
                                   f"exited with {done.returncode}: {said}")
                main_mb, worker_mb = (float(x) for x in done.stdout.split()[-2:])
                results.append({"lines": count, "workers": used,
                                "sentences_per_s": count / seconds, "seconds": seconds,
                                "peak_rss_mb": main_mb, "worker_peak_rss_mb": worker_mb})
    return results


# runs `ner-rnn tag` and prints the peak memory in MB of its main process, then of its
# largest worker. VmHWM, not ru_maxrss, for the main process: on Linux a child's
# ru_maxrss starts at its parent's peak (the workers are spawned, so theirs is their own).
_MEASURED_TAG = (
    "import resource, sys; from ner_rnn.cli import main; code = main(['tag', *sys.argv[1:]]); "
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]; "
    "print(int(hwm[0].split()[1]) / 1024 if hwm else 'nan', "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(code)")


def _timed(work: Callable[[], None], warm_up: Callable[[], None], device) -> float:
    warm_up()
    _synchronize(device)
    started = time.perf_counter()
    work()
    _synchronize(device)
    return time.perf_counter() - started


def _profiled(work: Callable[[], None], steps: int, device, on_device: bool = False
              ) -> tuple[float, list[dict]]:
    """Run `work` (`steps` training steps) under torch.profiler: top-level aten ops per
    step (ops named `aten::*` not called by another aten op), and the TOP_OPS ops (at
    any level) with the most self time, per step; `on_device` also records a GPU's
    kernels (their time), which counting the ops does not need."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if on_device and device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as profiler:
        work()
        _synchronize(device)
    events = profiler.events()
    top_level = sum(1 for e in events if e.name.startswith("aten::")
                    and not (e.cpu_parent is not None and e.cpu_parent.name.startswith("aten::")))
    kernels = len(activities) > 1  # then rank by the GPU's time, what a GPU run waits for
    averages = sorted(profiler.key_averages(), reverse=True,
                      key=lambda e: e.self_device_time_total if kernels else e.self_cpu_time_total)
    top = []
    for event in averages[:TOP_OPS]:
        op = {"name": event.key, "calls_per_step": event.count / steps,
              "self_cpu_ms_per_step": event.self_cpu_time_total / 1000 / steps}
        if kernels:
            op["self_device_ms_per_step"] = event.self_device_time_total / 1000 / steps
        top.append(op)
    return top_level / max(steps, 1), top


def _synchronize(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def format_table(result: dict) -> str:
    """The figures as a small text table, with our/bound ratios."""
    train = result["train"]
    lines = [(f"device {result['device']}, {result['threads']} threads, "
             f"peak RSS {result['peak_rss_mb']:.0f} MB"),
             (f"train  {train['sentences_per_s']:9.0f} sent/s {train['tokens_per_s']:9.0f} tok/s"
             f"   bound {train['bound_tokens_per_s']:9.0f} tok/s"
             f"   ratio {train['bound_tokens_per_s'] / train['tokens_per_s']:.2f}x"
             f"   epoch {train['epoch_seconds']:.1f} s"
             f"   {train['ops_per_step']:.0f} ops/step")]
    if "top_ops" in train:
        lines.append("top ops of a training step by self time (per step):")
        lines.extend(f"  {op['name'][:40]:<40} {op['calls_per_step']:8.1f} calls"
                     f" {op['self_cpu_ms_per_step']:9.3f} ms cpu"
                     + (f" {op['self_device_ms_per_step']:9.3f} ms device"
                        if "self_device_ms_per_step" in op else "")
                     for op in train["top_ops"])
    if "tag" in result:
        tag = result["tag"]
        lines.append(f"tag    {tag['sentences_per_s']:9.0f} sent/s {tag['tokens_per_s']:9.0f} tok/s"
                     f"   model {tag['model_tokens_per_s']:9.0f} tok/s"
                     f"   bound {tag['bound_tokens_per_s']:9.0f} tok/s"
                     f"   ratio {tag['bound_tokens_per_s'] / tag['model_tokens_per_s']:.2f}x")
        for run_ in tag.get("whole_command", []):
            lines.append(f"tag command on {run_['lines']:,} lines, {run_['workers']} workers: "
                         f"{run_['sentences_per_s']:.0f} sent/s ({run_['seconds']:.1f} s), "
                         f"peak RSS {run_['peak_rss_mb']:.0f} MB + worker "
                         f"{run_['worker_peak_rss_mb']:.0f} MB")
    return "\n".join(lines)
