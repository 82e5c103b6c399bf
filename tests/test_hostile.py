"""Hostile input: each test proves one promise of README "Errors and guarantees" for an
input a careless or hostile user could give (devices, symlinks, alias bombs, NaN, huge
sizes, invalid UTF-8 on stdin, foreign checkpoints, signals, a full disk)."""

import dataclasses
import gzip
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest
import torch
import yaml

from ner_rnn.cli import main
from ner_rnn.config import load_config
from ner_rnn.data.vectors import read_vectors
from ner_rnn.errors import ConfigError, DataFormatError, ModelError
from ner_rnn.files import atomic_write_text
from ner_rnn.metrics import score, score_predictions_file
from ner_rnn.serve.tagger import Tagger
from ner_rnn.train.loop import resume, train
from tests.conftest import ROOT

CORPUS = """\
-DOCSTART- O

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

-DOCSTART- O

John B-PER
visited O
Berlin B-LOC
and O
Rome B-LOC
. O
"""
TINY = ["model.embeddings.word.dim=4", "model.encoder.hidden_size=4", "train.batch_size=2",
        "train.epochs=1", "train.patience=null", "model.embeddings.char.type=null"]


def tiny_config(corpus, *overrides):
    """The smallest trainable config on `corpus` (a CoNLL file)."""
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
    """`python -m ner_rnn ARGS` in a subprocess (as a user runs it)."""
    kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "ner_rnn", *map(str, args)], cwd=ROOT,
                          check=False, **kwargs)


def one_error_line(stderr: bytes | str) -> str:
    """The one `error: ...` line that ends stderr (log lines may come before it)."""
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    errors = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and text.rstrip("\n").endswith(errors[0]), text
    assert "Traceback" not in text, text
    return errors[0]


# 2. BIOES is scored one way


def test_bioes_predictions_file_scores_like_the_model(tmp_path):
    gold = [["S-PER", "S-PER", "O", "B-LOC", "E-LOC"], ["S-ORG", "B-PER", "E-PER"]]
    predicted = [["B-PER", "E-PER", "O", "B-LOC", "E-LOC"], ["S-ORG", "S-PER", "S-PER"]]
    rows = [[f"w{i} {g} {p}" for i, (g, p) in enumerate(zip(gs, ps))]
            for gs, ps in zip(gold, predicted)]
    path = tmp_path / "predictions.txt"
    path.write_text("\n\n".join("\n".join(r) for r in rows) + "\n", encoding="utf-8")
    # Tagger.evaluate (evaluate --model) counts the corpus in its detected scheme
    assert score_predictions_file(path) == score(gold, predicted, "bioes")
    assert score_predictions_file(path)["overall"]["correct"] == 2  # B-LOC E-LOC and S-ORG


def test_bioes_evaluate_model_and_its_output_agree(tmp_path, capsys):
    bioes = tmp_path / "bioes.conll"
    bioes.write_text(CORPUS.replace("B-LOC", "S-LOC").replace("I-PER", "E-PER")
                     .replace("B-ORG", "S-ORG"), encoding="utf-8")
    train(tiny_config(bioes), tmp_path / "m")
    output = tmp_path / "out.txt"
    assert main(["evaluate", "--model", str(tmp_path / "m"), "--data", str(bioes),
                 "--output", str(output), "--format", "json"]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--predictions", str(output), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == direct


# 6. Devices, pipes and symlinks are written through; permissions follow the umask


def test_output_to_a_fifo_writes_through(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        atomic_write_text(fifo, "through the pipe\n")
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


def test_output_to_a_character_device_writes_through(tmp_path):
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("creating a device node needs privileges")
    atomic_write_text(null, "gone\n")
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_output_to_dev_stdout_redirected_to_a_file_writes_through(tmp_path, model):
    # a link of our own that works like /dev/stdout: a test must never risk the real one
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    log = tmp_path / "log.txt"
    with open(log, "a") as redirected:  # as a shell's `{ ner-rnn ...; echo tail; } >> log.txt`
        done = subprocess.run([sys.executable, "-m", "ner_rnn", "tag", "--model", str(model),
                               "--output", str(stdout), "Paris"], cwd=ROOT,
                              stdout=redirected, stderr=subprocess.PIPE, check=False)
        redirected.write("tail\n")
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    assert json.loads(lines[0])["tokens"] == ["Paris"] and lines[1:] == ["tail"]


def test_output_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "real" / "created.txt")
    atomic_write_text(dangling, "created")
    assert dangling.is_symlink() and (tmp_path / "real" / "created.txt").read_text() == "created"


def test_replaced_files_keep_their_mode_and_new_files_follow_the_umask(tmp_path, corpus):
    existing = tmp_path / "shared.txt"
    existing.write_text("old")
    existing.chmod(0o644)
    atomic_write_text(existing, "new")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o644
    old_umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
        train(tiny_config(corpus), tmp_path / "model")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "model").iterdir()}
    assert set(modes.values()) == {0o644}, modes


# 8. A full disk and SIGTERM leave nothing behind


def test_full_disk_while_saving_weights_is_one_line(tmp_path, corpus):
    import resource

    def small_files_only():  # every file beyond 4 kB fails to grow, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(dataclasses.asdict(tiny_config(corpus))))
    done = run_cli("train", "--output-dir", tmp_path / "m", "--config", config,
                   preexec_fn=small_files_only)
    assert done.returncode == 2
    assert "weights.pt: cannot write" in one_error_line(done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # nothing left


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_on_stdout_is_one_line(model, corpus):
    for command in (["tag", "--model", model, "Paris"],
                    ["evaluate", "--model", model, "--data", corpus]):
        with open("/dev/full", "w") as full:  # every write fails: No space left on device
            done = run_cli(*command, capture_output=False, stdout=full, stderr=subprocess.PIPE)
        assert done.returncode == 2
        assert one_error_line(done.stderr) == (
            "error: standard output: cannot write (No space left on device)")


def test_sigterm_while_tagging_into_a_file_leaves_nothing(tmp_path, model):
    source = tmp_path / "in.txt"
    source.write_text("Maria Lopez flew to Paris .\n" * 200_000, encoding="utf-8")
    output = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "ner_rnn", "tag", "--model", str(model), "--input", str(source),
         "--output", str(output), "--chunk-size", "100"], cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.jsonl.*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert one_error_line(stderr) == "error: terminated"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_sigterm_during_training_says_how_to_resume(tmp_path, corpus, monkeypatch, capsys):
    from ner_rnn.signals import Terminated
    from ner_rnn.train import loop

    def terminated(*args, **kwargs):
        raise Terminated(signal.SIGTERM)

    monkeypatch.setattr(loop, "train_epoch", terminated)
    assert main(["train", "--config", os.devnull, "--output-dir", str(tmp_path / "m"),
                 *[arg for key in TINY + [f"data.train={corpus}"] for arg in ("--set", key)]]
                ) == 128 + signal.SIGTERM
    assert "interrupted in epoch 1" in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []  # epoch 1 never ended: nothing left


def metrics(directory) -> list[dict]:
    return [json.loads(line) for line in (directory / "metrics.jsonl").read_text().splitlines()]


def test_ctrl_c_while_saving_waits_for_the_epoch_files(tmp_path, corpus, monkeypatch, capsys):
    from ner_rnn import model_dir

    save_metrics = model_dir.save_metrics

    def interrupted_once_in_epoch_2(directory, records):
        if len(records) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        save_metrics(directory, records)

    monkeypatch.setattr(model_dir, "save_metrics", interrupted_once_in_epoch_2)
    output = tmp_path / "m"
    overrides = [*TINY, f"data.train={corpus}", "train.epochs=3"]
    assert main(["train", "--config", os.devnull, "--output-dir", str(output),
                 *[arg for key in overrides for arg in ("--set", key)]]) == 130
    assert "checkpoint after epoch 2" in one_error_line(capsys.readouterr().err)
    epochs = [record.get("epoch") for record in metrics(output)]
    assert epochs == [1, 2]
    monkeypatch.setattr(model_dir, "save_metrics", save_metrics)
    assert main(["train", "--resume", str(output)]) == 0  # picks up at epoch 3
    epochs = [record.get("epoch") for record in metrics(output)]
    assert epochs[:3] == [1, 2, 3]


def test_a_stop_held_back_wins_over_an_error_of_the_block():
    from ner_rnn import signals

    done = threading.Event()
    bystander = threading.Thread(target=done.wait)  # started unblocked: the signal lands here
    bystander.start()
    try:
        with pytest.raises(signals.Terminated) as stopped, signals.installed(), signals.held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)  # the handler runs (in the main thread) and holds it back
            raise RuntimeError("a worker failed to start")
    finally:
        done.set()
        bystander.join()
    assert stopped.value.args == (signal.SIGTERM,)
    assert isinstance(stopped.value.__context__, RuntimeError)


def test_the_first_stop_held_back_wins_over_one_that_arrives_as_the_mask_lifts():
    from ner_rnn import signals

    done = threading.Event()
    bystander = threading.Thread(target=done.wait)  # started unblocked
    bystander.start()
    try:
        with pytest.raises(signals.Terminated), signals.installed(), signals.held():
            signal.pthread_kill(bystander.ident, signal.SIGTERM)  # handled, held back
            time.sleep(0.1)
            # blocked in this thread: it arrives the moment held() lifts the mask
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    finally:
        done.set()
        bystander.join()
    with signals.installed(), signals.held():  # nothing left over to raise later
        pass


# 9. YAML alias bombs


LEVELS = ["&a0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
BOMB = "[" + ", ".join(LEVELS) + "]"  # 10**6 scalars once expanded


@pytest.mark.parametrize("where", ["config", "--set"])
def test_alias_bomb_in_a_config_is_refused_quickly(tmp_path, where):
    path = tmp_path / "bomb.yaml"
    path.write_text(f"train: {{lr: {BOMB}}}\n")
    started = time.monotonic()
    with pytest.raises(ConfigError) as error:
        if where == "config":
            load_config(path)
        else:
            load_config(None, [f"train.lr={BOMB}"])
    assert time.monotonic() - started < 5
    assert len(str(error.value)) < 300


def test_a_config_file_of_megabytes_is_refused_unread(tmp_path):
    """A config is a few hundred bytes: a bigger one is refused before it is read whole
    (`--config /dev/zero` used to read until the kernel killed the process)."""
    path = tmp_path / "big.yaml"
    path.write_text("# padding\n" * 200_000 + "seed: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"big\.yaml: larger than 1,048,576 bytes"):
        load_config(path)


def test_alias_bomb_in_a_model_config_is_refused(tmp_path, model):
    shutil.copytree(model, tmp_path / "m")
    with open(tmp_path / "m" / "config.yaml", "a") as file:
        file.write(f"seed: {BOMB}\n")  # a repeated key: the last one wins
    with pytest.raises(ModelError) as error:
        Tagger.load(tmp_path / "m")
    assert len(str(error.value)) < 300 and "config.yaml" in str(error.value)


def test_long_values_are_shown_as_a_bounded_excerpt(write):
    with pytest.raises(ConfigError) as error:
        load_config(write("c.yaml", f"train: {{lr: {'x' * 100_000}}}\n"))
    assert "train.lr: expected a number, got 'xxx" in str(error.value)
    assert len(str(error.value)) < 200


# 10. Sizes have upper bounds


def test_absurd_sizes_are_refused_naming_the_key(corpus, tmp_path):
    with pytest.raises(ConfigError, match="model.encoder.hidden_size"):
        train(tiny_config(corpus, "model.encoder.hidden_size=1000000000"), tmp_path / "m")
    with pytest.raises(ConfigError, match="model.embeddings.word.dim"):
        train(tiny_config(corpus, "model.embeddings.word.dim=100000000000"), tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("overrides", [
    [],
    ["model.encoder.type=gru", "model.embeddings.char.type=cnn", "model.head.type=crf"],
    ["model.encoder.type=rnn", "model.encoder.num_layers=3", "model.embeddings.casing_dim=5"],
    ["model.encoder.bidirectional=false", "model.embeddings.char.type=lstm",
     "model.encoder.num_layers=2"],
])
def test_parameter_count_matches_the_built_network(overrides):
    from ner_rnn.data.vocab import Vocabularies
    from ner_rnn.model.network import build_network
    from ner_rnn.model.size import parameter_count

    config = load_config(None, TINY + overrides)
    vocabs = Vocabularies.build([["Paris", "rose"], ["Rome"]], [["B-LOC", "O"], ["B-LOC"]])
    network = build_network(config, vocabs)
    expected = sum(p.numel() for p in network.parameters())
    assert parameter_count(config.model, len(vocabs.words), len(vocabs.chars),
                           len(vocabs.labels)) == expected


def test_model_config_edited_to_huge_sizes_is_refused_before_building(tmp_path, model):
    shutil.copytree(model, tmp_path / "m")
    config = tmp_path / "m" / "config.yaml"
    config.write_text(config.read_text().replace("hidden_size: 4", "hidden_size: 9000", 1))
    # the network the config describes needs 2.6 GB; the weights are checked against the
    # config first, so loading fits in 1 GB more than importing torch
    script = f"""
import resource
from ner_rnn.errors import ModelError
from ner_rnn.serve.tagger import Tagger
size = int([l for l in open('/proc/self/status') if l.startswith('VmSize')][0].split()[1])
limit = size * 1024 + 2**30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    Tagger.load({str(tmp_path / 'm')!r})
except ModelError as error:
    print('refused:', error)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.stdout.startswith("refused:") and "weights do not match" in done.stdout, \
        done.stderr[-1000:]


# 11. NaN, infinity and seeds out of range


@pytest.mark.parametrize("override, message", [
    ("train.lr=.nan", "train.lr: expected a finite number, got nan"),
    ("train.lr=.inf", "train.lr: expected a finite number, got inf"),
    ("model.dropout=.nan", "model.dropout: expected a finite number"),
    ("train.momentum=.nan", "train.momentum: expected a finite number"),
    ("train.clip_grad_norm=.inf", "train.clip_grad_norm: expected a finite number"),
    ("train.weight_decay=.inf", "train.weight_decay: expected a finite number"),
    ("model.embeddings.word.singleton_unk=.NaN", "singleton_unk: expected a finite number"),
    ("seed=-1", "seed: expected a value >= 0, got -1"),
    ("seed=4294967296", "seed: expected a value < 4294967296, got 4294967296"),
])
def test_non_finite_numbers_and_bad_seeds_are_refused(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


# 12. stdin: invalid UTF-8, BOM, closed


def test_invalid_utf8_on_stdin_is_one_line_and_writes_nothing(tmp_path, model):
    output = tmp_path / "out.jsonl"
    done = run_cli("tag", "--model", model, "-", "--output", output,
                   input=b"Paris is nice\n\xff\xfe Rome\n")
    assert done.returncode == 2
    assert one_error_line(done.stderr).startswith("error: <stdin>:2: invalid UTF-8")
    assert not output.exists() and sorted(p.name for p in tmp_path.iterdir()) == []
    done = run_cli("tag", "--model", model, "-", input=b"Paris\n\xc3(\n")
    assert done.returncode == 2 and "<stdin>:2: invalid UTF-8" in one_error_line(done.stderr)
    done.stdout.decode("utf-8")  # what was written is valid UTF-8


def test_bom_on_stdin_is_not_a_token_and_closed_stdin_is_an_error(model):
    done = run_cli("tag", "--model", model, "-", input="\ufeffParis rose\n".encode())
    assert done.returncode == 0
    assert json.loads(done.stdout)["tokens"] == ["Paris", "rose"]
    done = run_cli("tag", "--model", model, "-", preexec_fn=lambda: os.close(0))
    assert done.returncode == 2 and "<stdin>" in one_error_line(done.stderr)


# 13. --input-format conll applies to stdin and arguments


def test_conll_input_format_applies_to_stdin_and_arguments(model, monkeypatch, capsys):
    text = "-DOCSTART- O\n\nMaria B-PER\nflew O\n.   O\n\nRome B-LOC\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert main(["tag", "--model", str(model), "-", "--input-format", "conll"]) == 0
    from_stdin = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["tokens"] for r in from_stdin] == [["Maria", "flew", "."], ["Rome"]]
    assert main(["tag", "--model", str(model), "--input-format", "conll",
                 *text.splitlines()]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == from_stdin


# 14. --resume with a foreign or malformed checkpoint


@pytest.mark.parametrize("damage", ["other model", "progress", "optimizer", "rng", "network"])
def test_resume_with_a_foreign_or_malformed_checkpoint_is_one_line(tmp_path, corpus, damage):
    train(tiny_config(corpus), tmp_path / "m")
    checkpoint = torch.load(tmp_path / "m" / "last.pt", weights_only=True)
    if damage == "other model":
        train(tiny_config(corpus, "model.encoder.hidden_size=6"), tmp_path / "other")
        shutil.copy(tmp_path / "other" / "last.pt", tmp_path / "m" / "last.pt")
    else:
        if damage == "progress":
            checkpoint["progress"]["epoch"] = "one"
        elif damage == "optimizer":
            state = checkpoint["optimizer"]["parts"][0]["state"]
            state[0]["exp_avg"] = torch.zeros(3)
        elif damage == "rng":
            checkpoint["torch_rng"] = torch.zeros(3, dtype=torch.uint8)
        else:
            checkpoint["network"] = {"x": torch.zeros(1)}
        torch.save(checkpoint, tmp_path / "m" / "last.pt")
    with pytest.raises(ModelError, match="last.pt: "):
        resume(tmp_path / "m")


# 15. Vector files: truncated gzip, NaN values


def test_truncated_gzip_and_non_finite_vectors_name_file_and_line(write):
    data = gzip.compress(("".join(f"w{i} 0.1 0.2\n" for i in range(5000))).encode())
    path = write("v.txt.gz", data[: len(data) // 2])
    with pytest.raises(DataFormatError, match=r"v.txt.gz:\d+: truncated or corrupt gzip"):
        read_vectors(path, {"w1"})
    path = write("v.txt", "paris 0.1 nan\nrome 1 inf\n")
    with pytest.raises(DataFormatError, match="v.txt:1: expected finite numbers"):
        read_vectors(path, {"paris"})


# 16. Numeric command-line arguments


@pytest.mark.parametrize("args, message", [
    (["benchmark", "--config", os.devnull, "--train", "x", "--scale", "0"],
     "error: --scale: expected a number >= 1, got 0"),
    (["benchmark", "--config", os.devnull, "--train", "x", "--tag", "y",
      "--stream-lines", "10", "-5"], "error: --stream-lines: expected a number >= 1, got -5"),
    (["tag", "--model", "m", "--chunk-size", "0", "x"],
     "error: --chunk-size: expected a number >= 1, got 0"),
    (["tag", "--model", "m", "--batch-size", "0", "x"],
     "error: --batch-size: expected a number >= 1, got 0"),
    (["tag", "--model", "m", "--batch-size", "2.5", "x"],
     "error: argument --batch-size: invalid int value: '2.5'"),
    (["tag", "--model", "m", "--nbest", "many", "x"],
     "error: argument --nbest: invalid int value: 'many'"),
    (["tag", "--model", "m", "--workers", str(2**31), "x"],  # was a traceback from a semaphore
     "error: --workers: expected a number from 0 to 1024, got 2147483648"),
    (["benchmark", "--config", os.devnull, "--train", "x", "--workers", "1", "1025"],
     "error: --workers: expected numbers from 0 to 1024, got [1, 1025]"),
])
def test_bad_numeric_arguments_are_one_line(args, message, capsys):
    assert main(args) == 2
    assert one_error_line(capsys.readouterr().err) == message


@pytest.mark.parametrize("args", [
    ["tag", "--model", "m", "--output", "", "x"],  # an unset $OUT must not mean stdout
    ["tag", "--model", "", "x"],
    ["evaluate", "--model", "m", "--data", ""],
    ["train", "--config", ""],
    ["report", "--model", "m", "--data", "d", "--output", ""],
])
def test_an_empty_path_argument_is_one_line(args, capsys):
    assert main(args) == 2
    assert one_error_line(capsys.readouterr().err).endswith(
        ": expected a path, got an empty string")


# 17. A mapping given to --set merges key by key


def test_set_with_a_mapping_merges_into_the_tree(write):
    path = write("c.yaml", "model: {head: {type: crf}, encoder: {type: gru}}\n")
    config = load_config(path, ["model={encoder: {hidden_size: 8}}"])
    assert config.model.encoder.hidden_size == 8
    assert (config.model.encoder.type, config.model.head.type) == ("gru", "crf")
    with pytest.raises(ConfigError, match=r"--set model.encoder.hiden_size: unknown key"):
        load_config(path, ["model={encoder: {hiden_size: 8}}"])


# 18. A model whose config.yaml says data.scheme: auto


def test_model_config_with_scheme_auto_is_refused(tmp_path, model):
    shutil.copytree(model, tmp_path / "m")
    config = tmp_path / "m" / "config.yaml"
    tree = yaml.safe_load(config.read_text())
    tree["data"]["scheme"] = "auto"
    config.write_text(yaml.safe_dump(tree))
    with pytest.raises(ModelError, match="config.yaml: data.scheme: .*auto"):
        Tagger.load(tmp_path / "m")


# Siblings


def test_output_over_the_input_is_refused(tmp_path, model, capsys):
    source = tmp_path / "in.txt"
    source.write_text("Paris\n")
    assert main(["tag", "--model", str(model), "--input", str(source),
                 "--output", str(source)]) == 2
    assert "is the input" in one_error_line(capsys.readouterr().err)
    assert source.read_text() == "Paris\n"


def test_bad_torchrun_variables_are_one_line(monkeypatch, model, capsys):
    monkeypatch.setenv("WORLD_SIZE", "two")
    assert main(["tag", "--model", str(model), "Paris"]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        "error: WORLD_SIZE: expected an integer >= 1, got 'two'")


def test_unicode_digits_in_a_fasttext_header_are_not_a_header(write):
    with pytest.raises(DataFormatError, match="v.vec:2: expected a word and 1 values"):
        read_vectors(write("v.vec", "³ ²\nparis 1 2\n"), {"paris"})


def test_an_endless_line_is_refused_before_it_fills_memory(tmp_path, model, capsys):
    """/dev/zero is one line that never ends: every reader of user text stops at its first
    mebibyte with the file and line, not when memory runs out."""
    output = tmp_path / "out.jsonl"
    assert main(["tag", "--model", str(model), "--input", "/dev/zero",
                 "--output", str(output)]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        "error: /dev/zero:1: line longer than 1048576 bytes, the most a line may hold")
    assert not output.exists()
    assert main(["evaluate", "--predictions", "/dev/zero"]) == 2
    assert "/dev/zero:1: line longer than" in one_error_line(capsys.readouterr().err)
    with pytest.raises(DataFormatError, match="zero:1: line longer than"):
        train(load_config(None, [*TINY, "data.train=/dev/zero"]), tmp_path / "m")
    bomb = tmp_path / "v.vec.gz"  # 2 MiB of one line, in a few kilobytes
    bomb.write_bytes(gzip.compress(b"paris " + b"1 " * (1 << 20)))
    with pytest.raises(DataFormatError, match="v.vec.gz:1: line longer than"):
        read_vectors(bomb, {"paris"})


def test_a_line_of_the_longest_length_is_read(monkeypatch, write):
    from ner_rnn.data import text

    monkeypatch.setattr(text, "MAX_LINE_BYTES", 8)
    longest = write("ok.txt", b"12345678\n12345678\r\n12345678")  # 8 bytes each, ends aside
    assert text.file_lines(longest) == ["12345678", "12345678", "12345678"]
    for name, content in [("a.txt", b"12345678\n123456789\n"), ("b.txt", b"1\n123456789"),
                          ("c.txt", b"1\r\n123456789\r\n")]:
        with pytest.raises(DataFormatError, match=f"{name}:2: line longer than 8 bytes"):
            text.file_lines(write(name, content))
    with pytest.raises(DataFormatError, match=r"bytes, the most a line may hold \(lines ending"):
        text.file_lines(write("mac.txt", b"1234\r5678\r9"))  # CR line ends: one long line


def test_a_torchrun_rank_whose_peer_stopped_says_so_in_one_line(monkeypatch, capsys):
    """Another rank's error ends it; this rank's collective then fails in gloo."""
    from ner_rnn import cli

    def peer_gone(args):
        raise RuntimeError("[third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection "
                           "closed by peer [127.0.0.1]:12192. This is typically caused by a "
                           "remote worker crashing.")

    monkeypatch.setattr(cli, "run_tag", peer_gone)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["tag", "--model", "m", "a sentence"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "another torchrun rank stopped" in line
    # gloo's words and the peer's address stay: the only clue when the network failed
    assert "Connection closed by peer [127.0.0.1]:12192" in line
    monkeypatch.delenv("WORLD_SIZE")  # a single process: not a peer's doing, so not hidden
    with pytest.raises(RuntimeError, match="Connection closed by peer"):
        main(["tag", "--model", "m", "a sentence"])
