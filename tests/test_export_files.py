"""`ner-rnn export`'s two files, FILE and FILE.vocab.json: checked before the trace,
written together or not at all."""

import os
import subprocess
import sys
import time

import pytest

from ner_rnn.cli import main
from ner_rnn.errors import NerError
from ner_rnn.files import atomic_write_together
from ner_rnn.leftovers import temp_prefix
from tests.conftest import ROOT
from tests.test_export import make_model


def refused(capsys, model, output, *options):
    """The one error line of an export that must fail."""
    assert main(["export", "--model", str(model), "--output", str(output), *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_a_vocab_name_too_long_is_refused_before_the_trace_and_nothing_is_written(
        tmp_path, capsys):
    """FILE fits in its directory, FILE.vocab.json (and its temp file) does not: the
    graph used to be written first and left alone."""
    model = make_model(tmp_path / "model")
    spare = os.pathconf(tmp_path, "PC_NAME_MAX") - len(temp_prefix("")) - len("XXXXXXXX.tmp")
    output = tmp_path / ("t" * (spare - 5))
    started = time.monotonic()
    line = refused(capsys, model, output)
    assert time.monotonic() - started < 5  # no trace
    assert line.startswith(f"error: {output}.vocab.json: file name too long")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_vocab_that_is_a_directory_is_refused_and_the_old_export_kept(tmp_path, capsys):
    output = tmp_path / "t.onnx"
    output.write_text("old graph")
    (tmp_path / "t.onnx.vocab.json").mkdir()
    line = refused(capsys, tmp_path / "no-model", output, "--overwrite")
    assert line == f"error: {output}.vocab.json: is a directory, expected a file"
    assert output.read_text() == "old graph"


@pytest.mark.parametrize("device", ["/dev/stdout", "/dev/null", "fifo"])
def test_an_output_that_is_not_a_regular_file_is_refused(tmp_path, capsys, device):
    """An export is two files: /dev/stdout would get the graph and /dev/stdout.vocab.json
    be created beside it."""
    if device == "fifo":
        device = tmp_path / "fifo"
        os.mkfifo(device)
    line = refused(capsys, tmp_path / "no-model", device, "--overwrite")
    assert line.startswith(f"error: {device}: not a regular file; an export is two files")
    assert not os.path.exists(f"{device}.vocab.json")


def test_an_output_in_no_directory_is_refused_before_the_model_is_read(tmp_path, capsys):
    output = tmp_path / "nodir" / "t.onnx"
    line = refused(capsys, tmp_path / "no-model", output)
    assert line == f"error: {output}: no directory {tmp_path / 'nodir'}"


def test_an_output_below_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    output = tmp_path / "file" / "t.onnx"
    assert refused(capsys, tmp_path / "no-model", output).startswith(f"error: {output}: ")


def test_a_symlink_output_is_written_through(tmp_path):
    """The file the link points to is replaced (the link stays a link); the vocabulary
    goes beside the link, the name given."""
    model = make_model(tmp_path / "model")
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "t.pt2"
    real.write_text("old")
    link = tmp_path / "t.pt2"
    link.symlink_to(real)
    done = subprocess.run([sys.executable, "-m", "ner_rnn", "export", "--model", str(model),
                           "--output", str(link), "--format", "torch", "--overwrite"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and real.read_bytes() != b"old"
    assert (tmp_path / "t.pt2.vocab.json").is_file()
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["t.pt2"]


def write_text(text):
    return lambda temp: temp.write_text(text)


def test_files_written_together_are_all_kept_when_a_write_fails(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("old a")
    second.write_text("old b")

    def fail(temp):
        raise OSError(28, "No space left on device")

    with pytest.raises(NerError, match=f"{second}: cannot write .No space left"):
        atomic_write_together([(first, write_text("new a")), (second, fail)])
    assert first.read_text() == "old a" and second.read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_refused_second_rename_removes_the_first_file(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    replace = os.replace

    def refuse_b(source, target):
        if os.fspath(target) == os.fspath(second):
            raise OSError(13, "Permission denied")
        replace(source, target)

    monkeypatch.setattr(os, "replace", refuse_b)
    with pytest.raises(NerError, match=f"{second}: cannot write .Permission denied.; "
                                       f"{first} removed"):
        atomic_write_together([(first, write_text("a")), (second, write_text("b"))])
    assert list(tmp_path.iterdir()) == []


def test_files_written_together_replace_both(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("old a")
    atomic_write_together([(first, write_text("new a")), (second, write_text("new b"))])
    assert first.read_text() == "new a" and second.read_text() == "new b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
