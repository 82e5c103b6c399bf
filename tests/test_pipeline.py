"""The tagging pipeline: worker processes change nothing in the output, chunk boundaries
change nothing with document context, and failures stop everything cleanly."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ner_rnn.cli import main
from ner_rnn.data.examples import Preprocessor
from ner_rnn.model.constants import TAG_BATCH_SIZE
from ner_rnn.serve.tagger import Tagger
from tests.conftest import ROOT, SAMPLE, floats_apart


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny CRF tagger that reads windows of neighbouring sentences (document context)."""
    directory = tmp_path_factory.mktemp("pipeline") / "model"
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(directory), "--set", "train.epochs=2",
                 "--set", "model.head.type=crf", "--set", "model.document_context=12",
                 "--set", "model.embeddings.word.dim=16", "--set", "model.encoder.hidden_size=16",
                 "--set", f"data.train={SAMPLE / 'train.conll'}",
                 "--set", f"data.dev={SAMPLE / 'dev.conll'}", "--set", "data.test=null"]) == 0
    return directory


def sample_lines() -> list[str]:
    """The test corpus's sentences as lines, a blank line between documents and odd ones
    mixed in (quotes, a backslash, a tab, an emoji, an empty and a blank line)."""
    sentences = [" ".join(row.split()[0] for row in block.splitlines())
                 for block in (SAMPLE / "test.conll").read_text().strip().split("\n\n")]
    lines = []
    for index, sentence in enumerate(sentences):
        lines.append(sentence)
        if index % 7 == 6:
            lines.append("")
    lines[3:3] = ['He said "Paris\\Rome"\tand left 😀 .', "   ", "U.S.-based Acme Inc. won't."]
    return lines


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "in.txt"
    path.write_text("\n".join(sample_lines()) + "\n", encoding="utf-8")
    return path


def tag(model, source, output, *options) -> str:
    assert main(["tag", "--model", str(model), "--input", str(source), "--output", str(output),
                 *options]) == 0
    return output.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["json", "conll", "inline", "html"])
def test_workers_write_what_one_process_writes(model, source, tmp_path, kind):
    extras = {"json": ["--nbest", "3", "--confidence"], "html": ["--confidence"]}
    options = ["--format", kind, "--chunk-size", "7", *extras.get(kind, [])]
    alone = tag(model, source, tmp_path / "alone", "--workers", "0", *options)
    assert tag(model, source, tmp_path / "workers", "--workers", "2", *options) == alone
    if kind == "json":
        results = [json.loads(line) for line in alone.splitlines()]
        assert len(results) == len(sample_lines())
        assert results[4] == {"tokens": [], "tags": [], "entities": [], "nbest": []}
        assert any(result["entities"] for result in results)
        assert all(0 < e["confidence"] <= 1 for r in results for e in r["entities"])


def test_chunk_boundaries_do_not_change_what_document_context_reads(model, source, tmp_path):
    whole = tag(model, source, tmp_path / "whole", "--chunk-size", "100000", "--workers", "0")
    assert whole == "".join(json.dumps(result, ensure_ascii=False) + "\n"
                            for result in Tagger.load(model).tag(sample_lines()))
    for size in ("1", "2", "7", "64"):
        assert tag(model, source, tmp_path / size, "--chunk-size", size, "--workers", "1") == whole


def test_tag_batch_size_is_its_own_and_changes_nothing(model, source, tmp_path, monkeypatch):
    """`tag` runs batches of --batch-size rows (default TAG_BATCH_SIZE), whatever the
    model's train.eval_batch_size (dev scoring's) says; tags and entities never change,
    probabilities by float32 rounding at most (a batch of one row is computed otherwise)."""
    edited = tmp_path / "model"
    shutil.copytree(model, edited)
    config = edited / "config.yaml"
    config.write_text(config.read_text().replace("eval_batch_size: 256", "eval_batch_size: 7"))
    assert Tagger.load(edited).config.train.eval_batch_size == 7
    sizes = []
    plan = Preprocessor.batches

    def batches(self, examples, batch_size, rng=None):
        sizes.append(batch_size)
        return plan(self, examples, batch_size, rng)

    monkeypatch.setattr(Preprocessor, "batches", batches)
    options = ["--nbest", "3", "--confidence", "--workers", "0", "--chunk-size", "20"]
    default, probabilities = floats_apart(read_json_lines(
        tag(edited, source, tmp_path / "default", *options)))
    assert sizes and set(sizes) == {TAG_BATCH_SIZE}
    for size in ("1", "3"):
        sizes.clear()
        found, found_probabilities = floats_apart(read_json_lines(
            tag(edited, source, tmp_path / size, "--batch-size", size, *options)))
        assert set(sizes) == {int(size)}
        assert found == default and found_probabilities == pytest.approx(probabilities, rel=1e-5)


def read_json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines()]


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def start_tagging(model, tmp_path, **popen) -> tuple[subprocess.Popen, list[int]]:
    """`tag --workers 2` on a long input, once its workers are running."""
    source = tmp_path / "long.txt"
    source.write_text("\n".join(sample_lines() * 300) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "ner_rnn", "tag", "--model", str(model), "--input",
               str(source), "--output", str(tmp_path / "out.jsonl"), "--workers", "2",
               "--chunk-size", "50"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, **popen)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        workers = [pid for pid in children(process.pid) if is_worker(pid)]
        if len(workers) == 2:
            return process, children(process.pid)
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"no workers started: {process.communicate()}")


def gone(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_worker_fails_the_command_with_one_line_and_no_output(model, tmp_path):
    process, pids = start_tagging(model, tmp_path)
    os.kill(next(pid for pid in pids if is_worker(pid)), signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert stderr.startswith("error: a tagging worker process stopped unexpectedly")
    assert len(stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.txt"]  # no output, no temp
    assert gone(pids)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_stops_every_worker(model, tmp_path):
    process, pids = start_tagging(model, tmp_path)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and stderr.strip() == "error: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.txt"]
    assert gone(pids)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sigterm_to_the_whole_group_is_reported_as_terminated(model, tmp_path):
    process, pids = start_tagging(model, tmp_path, start_new_session=True)
    os.killpg(process.pid, signal.SIGTERM)  # as systemd or a job scheduler stops a job
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM and stderr.strip() == "error: terminated"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.txt"]
    assert gone(pids)


def test_torchrun_ranks_share_chunks_that_end_with_windows(model, source, tmp_path):
    from tests.test_distributed import failure, torchrun

    whole = tag(model, source, tmp_path / "whole", "--chunk-size", "100000", "--workers", "0")
    done = torchrun("tag", "--model", str(model), "--input", str(source), "--output",
                    str(tmp_path / "sharded"), "--chunk-size", "7")
    assert done.returncode == 0, failure(done)
    assert (tmp_path / "sharded").read_text(encoding="utf-8") == whole


def test_workers_never_import_torch():
    """A worker imports the workers module and what it needs: starting one must not cost
    an import of torch (seconds of CPU) nor start torch's threads."""
    code = "import sys, ner_rnn.serve.workers; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "False"
