"""What killed runs leave (issue 22, item 23): temp files and staging directories of a
dead process of this host are removed by the next run; nothing else is touched."""

import os
import re
import subprocess
import sys
import textwrap

import pytest

from ner_rnn.files import atomic_write, atomic_write_text
from ner_rnn.leftovers import remove_leftovers, staging_prefix, temp_prefix
from ner_rnn.train.loop import resume, train
from tests.conftest import ROOT
from tests.test_hostile_iii import corpus, tiny_config  # noqa: F401 (fixture)

HOST = temp_prefix("x").split(".")[2]  # `.x.HOST.PID.`: the host holds no dot


@pytest.fixture(scope="module")
def dead_pid():
    """The pid of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def temp_name(name, pid, host=HOST, random="abc_1234"):
    return f".{name}.{host}.{pid}.{random}.tmp"


def staging_name(name, pid, host=HOST, random="k9_zz0ab"):
    return f".{name}.staging-{host}.{pid}.{random}"


def make_staging(path):
    path.mkdir()
    (path / "weights.pt").write_bytes(b"half")
    (path / "sub").mkdir()
    (path / "sub" / "x").write_text("x")
    return path


def names(directory):
    return sorted(p.name for p in directory.iterdir())


def test_the_names_made_are_the_names_matched(tmp_path):
    pid = os.getpid()
    seen = []
    atomic_write(tmp_path / "last.pt", lambda temp: seen.append(temp.name) or temp.write_text(""))
    assert re.fullmatch(rf"\.last\.pt\.{HOST}\.{pid}\.[a-z0-9_]{{8}}\.tmp", seen[0])
    assert staging_prefix("model") == f".model.staging-{HOST}.{pid}."


def test_leftovers_of_a_dead_process_are_removed(tmp_path, dead_pid):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    here = tmp_path / "here"
    here.mkdir()
    (here / temp_name("last.pt", dead_pid)).write_bytes(b"half")
    staging = make_staging(here / staging_name("model", dead_pid))
    os.symlink(outside, staging / "link")  # a link inside is removed, never followed
    os.symlink(outside / "keep.txt", staging / "sub" / "file-link")
    remove_leftovers(here)
    assert names(here) == []
    assert names(outside) == ["keep.txt"] and (outside / "keep.txt").read_text() == "mine"


def test_leftovers_of_live_processes_and_other_hosts_are_kept(tmp_path, dead_pid):
    kept = [temp_name("last.pt", os.getpid()), temp_name("weights.pt", 1),
            temp_name("last.pt", dead_pid, host="otherhost"),
            staging_name("model", os.getpid()), staging_name("model", dead_pid, host="other")]
    for name in kept:
        if "staging" in name:
            make_staging(tmp_path / name)
        else:
            (tmp_path / name).write_bytes(b"half")
    remove_leftovers(tmp_path)
    assert names(tmp_path) == sorted(kept)


def test_a_symlink_named_like_a_leftover_is_kept_and_its_target_untouched(tmp_path,
                                                                           dead_pid):
    target_dir = make_staging(tmp_path / "target-dir")
    target_file = tmp_path / "target.txt"
    target_file.write_text("mine")
    os.symlink(target_dir, tmp_path / staging_name("model", dead_pid))
    os.symlink(target_file, tmp_path / temp_name("last.pt", dead_pid))
    before = names(tmp_path)
    remove_leftovers(tmp_path)
    assert names(tmp_path) == before
    assert names(target_dir) == ["sub", "weights.pt"] and target_file.read_text() == "mine"


def test_names_that_only_resemble_a_leftover_are_kept(tmp_path, dead_pid):
    files = [
        temp_name("last.pt", dead_pid)[1:],  # no leading dot
        temp_name("last.pt", dead_pid, random="abc123"),  # random part too short
        temp_name("last.pt", dead_pid, random="ABCDEFGH"),  # not tempfile's characters
        temp_name("last.pt", dead_pid) + ".bak",
        temp_name("last.pt", 0),  # no pid is 0
        temp_name("last.pt", f"{dead_pid}x"),
        f".last.pt.{HOST}.abc_1234.tmp",  # no pid
        ".last.pt.abc_1234.tmp",  # the naming before hosts and pids
        staging_name("model", dead_pid),  # a file named like a staging directory
        staging_name("model", dead_pid) + "x",
        f".model.old-{HOST}.{dead_pid}.k9_zz0ab",  # a model moved aside: never removed
    ]
    for name in files:
        (tmp_path / name).write_text("mine")
    make_staging(tmp_path / temp_name("weights.pt", dead_pid))  # a directory named like a temp
    remove_leftovers(tmp_path)
    assert len(names(tmp_path)) == len(files) + 1


def test_every_atomic_write_removes_leftovers_beside_it(tmp_path, dead_pid):
    (tmp_path / temp_name("out.txt", dead_pid)).write_text("half")
    make_staging(tmp_path / staging_name("m", dead_pid))
    atomic_write_text(tmp_path / "out.txt", "new")
    assert names(tmp_path) == ["out.txt"]


KILLED = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from ner_rnn.files import atomic_write
    from ner_rnn.train.output import ModelOutput

    destination, inside = Path(sys.argv[1]), sys.argv[2]
    if inside == "staging":  # a new run killed in epoch 1, writing into its staging
        target = ModelOutput.new(destination).directory / "weights.pt"
    else:  # a run killed while it saved into its model directory
        target = destination / inside

    def killed(temp):
        temp.write_bytes(b"half")
        os.kill(os.getpid(), signal.SIGKILL)

    atomic_write(target, killed)
""")


def kill_9_while_writing(destination, inside):
    done = subprocess.run([sys.executable, "-c", KILLED, str(destination), inside], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == -9


def test_train_after_kill_9_leaves_no_leftovers(corpus, tmp_path):  # noqa: F811
    destination = tmp_path / "model"
    kill_9_while_writing(destination, "staging")
    assert any(".staging-" in name for name in names(tmp_path))
    train(tiny_config(corpus, "train.epochs=2"), destination)
    assert names(tmp_path) == ["model"]
    assert not [name for name in names(destination) if name.startswith(".")]

    kill_9_while_writing(destination, "last.pt")
    assert any(name.endswith(".tmp") for name in names(destination))
    resume(destination)  # nothing left to train: only its start runs
    assert not [name for name in names(destination) if name.startswith(".")]

    kill_9_while_writing(destination, "last.pt")  # not taken for a file of the user's
    train(tiny_config(corpus), destination, overwrite=True)
    assert names(tmp_path) == ["model"]
    assert not [name for name in names(destination) if name.startswith(".")]



def test_another_users_leftovers_are_kept(tmp_path, dead_pid, monkeypatch):
    """A name like ours with a dead pid, owned by someone else, is not ours to remove."""
    temp = tmp_path / temp_name("out.txt", dead_pid)
    temp.write_text("theirs")
    staging = make_staging(tmp_path / staging_name("model", dead_pid))
    monkeypatch.setattr("ner_rnn.leftovers.os.geteuid", lambda: temp.stat().st_uid + 1)
    remove_leftovers(tmp_path)
    assert temp.exists() and (staging / "weights.pt").exists()
