"""Hostile input III (issue 22, items 1-12): outputs over their own inputs or models,
directories shared by runs, schemes per file, duplicate YAML keys, Unicode spaces in
columns, scripts the tokeniser must keep whole, unconstrained k-best, unreadable models,
labels a resumed run never saw, floats beyond float32."""

import os
import subprocess
import sys

import pytest

from ner_rnn.cli import main
from ner_rnn.config import load_config
from ner_rnn.train.loop import train
from tests.conftest import ROOT

CORPUS = """\
Maria B-PER
Lopez I-PER
flew O
to O
Paris B-LOC
. O

Apple B-ORG
rose O
in O
Tokyo B-LOC
. O

John B-PER
visited O
Berlin B-LOC
and O
Rome B-LOC
. O
"""
TINY = ["model.embeddings.word.dim=4", "model.encoder.hidden_size=4", "train.batch_size=2",
        "train.epochs=1", "train.patience=null", "model.embeddings.char.type=null",
        "threads=1"]


def tiny_config(corpus, *overrides):
    return load_config(None, TINY + [f"data.train={corpus}", *overrides])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "train.conll"
    path.write_text(CORPUS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model(corpus):
    directory = corpus.parent / "model"
    train(tiny_config(corpus), directory)
    return directory


def run_cli(*args, **kwargs):
    kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "ner_rnn", *map(str, args)], cwd=ROOT,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}, **kwargs)


def one_error_line(stderr: bytes | str) -> str:
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    errors = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and text.rstrip("\n").endswith(errors[0]), text
    assert "Traceback" not in text, text
    return errors[0]


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# 1. stdin that is the output file


def test_tag_refuses_output_that_is_its_stdin(model, tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("Maria flew to Paris\n", encoding="utf-8")
    with open(text, "rb") as stdin:
        result = run_cli("tag", "--model", model, "--output", text, "-", stdin=stdin)
    assert result.returncode == 2
    assert "standard input" in one_error_line(result.stderr)
    assert text.read_text(encoding="utf-8") == "Maria flew to Paris\n"


def test_tag_from_stdin_to_another_file_works(model, tmp_path):
    text, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    text.write_text("Maria flew to Paris\n", encoding="utf-8")
    with open(text, "rb") as stdin:
        result = run_cli("tag", "--model", model, "--output", out, "-", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").count("\n") == 1


# 2. outputs inside the model directory being read


@pytest.mark.parametrize("command", [
    ["tag", "--output", "{m}/weights.pt", "Maria flew"],
    ["evaluate", "--data", "{c}", "--output", "{m}/config.yaml"],
    ["report", "--data", "{c}", "--output", "{m}/vocab.json", "--format", "json"],
    ["report", "--data", "{c}", "--output", "{m}/sub/../report.html"],
])
def test_output_inside_the_model_directory_is_refused(model, corpus, command, capsys):
    before = snapshot(model)
    args = [a.format(m=model, c=corpus) for a in command]
    assert main([args[0], "--model", str(model), *args[1:]]) == 2
    assert "inside the model directory" in capsys.readouterr().err
    assert snapshot(model) == before


def test_output_through_a_symlink_into_the_model_is_refused(model, corpus, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(model)
    before = snapshot(model)
    assert main(["evaluate", "--model", str(model), "--data", str(corpus),
                 "--output", str(link / "weights.pt")]) == 2
    assert "inside the model directory" in capsys.readouterr().err
    assert snapshot(model) == before
