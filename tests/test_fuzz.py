"""The command line under random input: random bytes and random mutations of a valid
corpus, predictions file, config and model directory never give a traceback, a hang or
a changed input file. Every run ends with status 0, or with status 2 and one `error:`
line. One tiny model serves the whole module; examples are few and small."""

import contextlib
import hashlib
import io
import shutil
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ner_rnn.cli import main
from tests.test_hostile import CORPUS, TINY, tiny_config

# Hypothesis' own deadline reports a slow example only once it ends, and a hang never
# ends: each run has an alarm instead (generous, the test machine is shared).
FUZZ = settings(max_examples=30, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
HANG_SECONDS = 60

# byte strings that reach the parsers' corners
SPECIAL = [b"\xff", b"\xc3(", b"\xef\xbb\xbf", b"\x00", b"\r", b"\t", b"\n\n", b" ",
           b"-DOCSTART- O\n", b"-X-", b"B-", b"I-PER", b"S-LOC", b"E-", b"O", b"nan", b".inf",
           b"-1", b"1e999", b"99999999999", b"&a [*a]", b"*a", b": ", b"{", b"[", b"!!python",
           b"null", b"\xe2\x80\xa8", "é東😀".encode()]


@st.composite
def mutations(draw, valid: bytes) -> bytes:
    """`valid` with a few random edits: bytes replaced, inserted, deleted, repeated, or
    the end cut off."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["replace", "insert", "delete", "repeat", "cut"]))
        if kind == "replace" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(SPECIAL) | st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif kind == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 64))] * draw(st.integers(1, 3))
        else:
            del data[at:]
    return bytes(data)


def hostile(valid: bytes):
    """Random bytes, or a mutation of valid input."""
    return st.binary(max_size=300) | mutations(valid)


@contextlib.contextmanager
def no_hang(seconds: int = HANG_SECONDS):
    def alarm(signum, frame):
        raise TimeoutError(f"the command ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(argv: list, stdin: bytes = b"") -> tuple[int, str]:
    """main(argv) in this process; asserts the status and the error line, returns the
    status and stdout."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), no_hang():
            code = main([str(arg) for arg in argv])
    finally:
        sys.stdin = saved_stdin
    assert code in (0, 2), (code, err.getvalue())
    if code == 2:
        errors = [line for line in err.getvalue().splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and err.getvalue().rstrip("\n").endswith(errors[0]), err.getvalue()
    return code, out.getvalue()


def fingerprint(*paths: Path) -> dict:
    """Contents of files and of the files under directories, to prove nothing changed."""
    files = [p for path in paths for p in ([path] if path.is_file() else sorted(path.rglob("*")))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    corpus = directory / "train.conll"
    corpus.write_text(CORPUS, encoding="utf-8")
    from ner_rnn.train.loop import train

    train(tiny_config(corpus, "model.embeddings.char.type=cnn",
                      "model.embeddings.char.filters=3", "model.embeddings.casing_dim=2"),
          directory / "model")
    return directory / "model"


TEXT = b"Maria Lopez flew to Paris .\n\nApple rose in Tokyo .\n"


@FUZZ
@given(data=hostile(TEXT) | hostile(CORPUS.encode()), source=st.sampled_from(["file", "stdin"]),
       input_format=st.sampled_from(["text", "conll"]),
       output_format=st.sampled_from(["json", "conll", "inline"]),
       to_file=st.booleans(), extra=st.sampled_from([[], ["--nbest", "2", "--confidence"],
                                                     ["--pretokenized"], ["--scheme", "bioes"]]),
       workers=st.sampled_from(["0", "1"]))
def test_tag_never_fails_on_any_input(model, data, source, input_format, output_format,
                                      to_file, extra, workers):
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        if output_format != "json" and "--nbest" in extra:  # json alone writes them
            extra = []
        argv = ["tag", "--model", model, "--input-format", input_format,
                "--format", output_format, "--workers", workers, *extra]
        stdin = b""
        if source == "file":
            (temp / "input").write_bytes(data)
            argv += ["--input", temp / "input"]
        else:
            argv += ["-"]
            stdin = data
        if to_file:
            argv += ["--output", temp / "out"]
        before = fingerprint(model, temp)
        code, stdout = run(argv, stdin)
        after = fingerprint(model, temp)
        if code == 0 and to_file:
            (temp / "out").read_bytes().decode("utf-8")  # valid UTF-8
            after.pop(str(temp / "out"))
        assert after == before  # inputs unchanged, and no output or temp file left on error
        if code == 0 and input_format == "text" and output_format == "json":
            written = (temp / "out").read_text("utf-8") if to_file else stdout
            lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
            assert written.count("\n") == lines  # one result per input line, and lines end
            # at "\n" only (str.splitlines would also split at \v, \f, \x1c, \u2028 ...)


PREDICTIONS = "".join(
    "\n" if not line.strip() else f"{line} {line.split()[-1]}\n"
    for line in CORPUS.splitlines()).encode()


@FUZZ
@given(data=hostile(PREDICTIONS), output_format=st.sampled_from(["text", "json"]))
def test_evaluate_never_fails_on_any_predictions_file(data, output_format):
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "predictions"
        path.write_bytes(data)
        run(["evaluate", "--predictions", path, "--format", output_format])
        assert path.read_bytes() == data


@FUZZ
@given(data=hostile(CORPUS.encode()))
def test_evaluate_never_fails_on_any_corpus(model, data):
    with tempfile.TemporaryDirectory() as temp:
        corpus, output = Path(temp) / "corpus", Path(temp) / "out"
        corpus.write_bytes(data)
        before = fingerprint(model, corpus)
        code, _ = run(["evaluate", "--model", model, "--data", corpus, "--output", output])
        assert output.exists() == (code == 0)
        assert fingerprint(model, corpus) == before


def valid_config(corpus: Path) -> bytes:
    """A whole config as YAML, every key written out."""
    return yaml.safe_dump(asdict(tiny_config(corpus, "model.head.type=crf")),
                          sort_keys=False).encode()


# what may not change: the sizes and length of a run, and the files it reads
PINNED = TINY + ["data.dev=null", "data.test=null", "model.embeddings.pretrained=null",
                 "threads=null", "device=cpu", "model.embeddings.char.type=null",
                 "model.encoder.num_layers=1"]


@FUZZ
@given(mutate=st.data())
def test_train_never_fails_on_any_config(model, mutate):
    corpus = model.parent / "train.conll"
    data = mutate.draw(hostile(valid_config(corpus)))
    with tempfile.TemporaryDirectory() as temp:
        config = Path(temp) / "config.yaml"
        config.write_bytes(data)
        before = fingerprint(config, corpus)
        sets = [arg for key in PINNED + [f"data.train={corpus}"] for arg in ("--set", key)]
        code, _ = run(["train", "--config", config, "--output-dir", Path(temp) / "m", *sets])
        assert fingerprint(config, corpus) == before
        if code == 0:
            assert run(["tag", "--model", Path(temp) / "m", "--workers", "0",
                        "Paris rose ."])[0] == 0


KEYS = ["seed", "threads", "data.scheme", "data.tag_column", "model.scheme",
        "model.dropout", "model.document_context", "model.encoder.type",
        "model.encoder.hidden_size", "model.embeddings.word.dim", "model.head", "model",
        "train.lr", "train.epochs", "train.clip_grad_norm", "train.patience", "nope", ""]


@FUZZ
@given(key=st.sampled_from(KEYS), value=st.text(max_size=40) | st.sampled_from(
    [s.decode("utf-8", "replace") for s in SPECIAL]))
def test_set_never_fails_on_any_value(key, value):
    # a missing training file stops every valid config before training starts
    code, _ = run(["train", "--set", f"{key}={value}", "--set", "data.train=/no/such/file",
                   "--output-dir", "/no/such/dir"])
    assert code == 2


MODEL_FILES = ["config.yaml", "vocab.json", "meta.json", "weights.pt"]


@FUZZ
@given(name=st.sampled_from(MODEL_FILES), mutate=st.data())
def test_tag_never_fails_on_any_model_directory(model, name, mutate):
    data = mutate.draw(hostile((model / name).read_bytes()) if name != "weights.pt"
                       else mutations((model / name).read_bytes()))
    with tempfile.TemporaryDirectory() as temp:
        copy = Path(temp) / "model"
        shutil.copytree(model, copy)
        (copy / name).write_bytes(data)
        before = fingerprint(copy)
        run(["tag", "--model", copy, "--workers", "0", "Maria Lopez flew to Paris ."])
        assert fingerprint(copy) == before
