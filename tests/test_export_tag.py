"""`ner-rnn tag --model FILE.onnx` and `Tagger.load("FILE.onnx")`: the exported graph run
by onnxruntime tags byte for byte as the model directory does; a file that is not such an
export is one error line naming it."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ner_rnn.cli import main
from ner_rnn.errors import NerError
from ner_rnn.export import reading
from ner_rnn.export.files import VERSION_KEY, VOCAB_HASH_KEY
from ner_rnn.serve.tagger import Tagger
from tests.conftest import ROOT, SAMPLE
from tests.conftest import train_small as train

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

MODELS = {  # what each exports: argmax in the graph; Viterbi over document windows
    "softmax": ("train.epochs=2", "model.embeddings.char.type=lstm"),
    "crf_context": ("train.epochs=3", "train.lr=0.01", "model.head.type=crf",
                    "model.document_context=40")}
ENTITY = {"json": b'"type": ', "conll": b"-PER\n", "inline": b" PER]"}  # found in each output


@pytest.fixture(scope="module", params=list(MODELS))
def exported(request, tmp_path_factory):
    """(model directory, FILE.onnx) of a tiny model."""
    root = tmp_path_factory.mktemp(request.param)
    model = train(root / "model", *MODELS[request.param])
    output = root / "tagger.onnx"
    # a process of its own, as the command runs: a second export in one process can come
    # out with the rows' axes fixed (seen with torch 2.13; export's own tests watch it)
    subprocess.run([sys.executable, "-m", "ner_rnn", "export", "--model", str(model),
                    "--output", str(output)], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return model, output


def tag(model, output, *options):
    assert main(["tag", "--model", str(model), "--input", str(SAMPLE / "test.conll"),
                 "--input-format", "conll", "--output", str(output), *options]) == 0
    return output.read_bytes()


@pytest.mark.parametrize("kind", ["json", "conll", "inline"])
def test_tagging_with_the_export_writes_the_same_bytes(exported, kind, tmp_path):
    model, graph = exported
    expected = tag(model, tmp_path / "directory.out", "--format", kind)
    assert tag(graph, tmp_path / "graph.out", "--format", kind) == expected
    assert expected.count(ENTITY[kind]) > 10  # the model has learnt to find names


def test_the_python_api_reads_the_export(exported):
    model, graph = exported
    texts = ["Yuki Tanaka of MIT won the prize in Paris .", "", "Maria flew to Berlin ."]
    assert Tagger.load(graph).tag(texts) == Tagger.load(model).tag(texts)
    assert Tagger.load(graph).config == Tagger.load(model).config
    with pytest.raises(ValueError, match="nbest or confidence"):
        Tagger.load(graph).tag(texts, nbest=2)
    with pytest.raises(ValueError, match="runs as exported, on the CPU"):
        Tagger.load(graph, implementation="torch")


@pytest.mark.parametrize("option", [["--nbest", "2"], ["--confidence"],
                                    ["--implementation", "torch"], ["--device", "cuda"]])
def test_options_that_need_the_model_directory_are_refused(exported, option, capsys):
    _, graph = exported
    assert main(["tag", "--model", str(graph), "Maria flew .", *option]) == 2
    name = " ".join(option) if option[0] == "--device" else option[0]
    expected = (f"error: {name}: not with an exported model ({graph} gives the best tags "
                "only, on the CPU); tag with the model directory")
    assert capsys.readouterr().err.strip().splitlines() == [expected]


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_evaluate_and_report_are_refused_with_an_export(exported, command, tmp_path, capsys):
    _, graph = exported
    assert main([command, "--model", str(graph), "--data", str(SAMPLE / "test.conll"),
                 "--output", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        (f"error: --model {graph}: {command} needs the model directory, not an exported "
         "model (tag reads that)")]
    assert not (tmp_path / "out").exists()


def test_the_python_api_names_the_export_it_cannot_evaluate_with(exported):
    _, graph = exported
    with pytest.raises(NerError, match=f"^{graph}: evaluate needs the model directory"):
        Tagger.load(graph).evaluate([])


def test_nbest_1_is_the_best_path_and_allowed(exported, capsys):
    _, graph = exported
    assert main(["tag", "--model", str(graph), "Maria flew to Berlin ."]) == 0
    best = capsys.readouterr().out
    assert main(["tag", "--model", str(graph), "Maria flew to Berlin .", "--nbest", "1"]) == 0
    assert capsys.readouterr().out == best


def test_a_numpy_integer_batch_size_is_accepted(exported):
    model, graph = exported
    texts = ["Maria flew to Berlin ."]
    for path in (model, graph):
        tagger = Tagger.load(path, batch_size=np.int64(4))
        assert tagger.batch_size == 4 and type(tagger.batch_size) is int
        assert tagger.tag(texts) == Tagger.load(path).tag(texts)
    with pytest.raises(TypeError, match="batch_size must be an int, got bool"):
        Tagger.load(graph, batch_size=True)
    assert Tagger.load(model).tag(texts, nbest=np.int64(2)) == Tagger.load(model).tag(
        texts, nbest=2)
    assert Tagger.load(graph).tag(texts, nbest=np.int64(1)) == Tagger.load(graph).tag(texts)


def refused(graph, capsys) -> str:
    """The one error line of tagging with `graph`."""
    assert main(["tag", "--model", str(graph), "Maria flew ."]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {graph}")
    return line


def copy(exported, tmp_path, data: bytes | None = None):
    """A copy of the export (with other graph bytes) under tmp_path."""
    _, graph = exported
    target = tmp_path / "copy.onnx"
    target.write_bytes(graph.read_bytes() if data is None else data)
    (tmp_path / "copy.onnx.vocab.json").write_bytes(
        graph.with_name(graph.name + ".vocab.json").read_bytes())
    return target


def export_copy(exported, tmp_path):
    """(FILE.onnx, FILE.onnx.vocab.json) copied under tmp_path."""
    graph = copy(exported, tmp_path)
    return graph, tmp_path / "copy.onnx.vocab.json"


def test_output_over_the_export_or_its_vocabularies_is_refused(exported, tmp_path, capsys):
    graph, vocab = export_copy(exported, tmp_path)
    before = graph.read_bytes(), vocab.read_bytes()
    (tmp_path / "link.json").symlink_to(vocab)
    os.link(graph, tmp_path / "hard.onnx")
    expected = {
        vocab: f"is {vocab}, the vocabularies of the exported model {graph}",
        tmp_path / "link.json": f"is {vocab}, the vocabularies of the exported model {graph}",
        graph: f"is the exported model {graph}",
        tmp_path / "hard.onnx": f"is the exported model {graph}"}
    for output, message in expected.items():
        assert main(["tag", "--model", str(graph), "--input", str(SAMPLE / "test.conll"),
                     "--input-format", "conll", "--output", str(output)]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"error: --output {output}: {message}; choose another output"]
    assert (graph.read_bytes(), vocab.read_bytes()) == before
    assert tag(graph, tmp_path / "tags.json")  # the export still tags


def test_a_vocab_json_that_is_not_a_regular_file_is_refused(exported, tmp_path, capsys):
    graph, vocab = export_copy(exported, tmp_path)
    vocab.unlink()
    os.mkfifo(vocab)

    def hung(*_):
        raise TimeoutError("reading the FIFO hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        assert refused(graph, capsys) == f"error: {vocab}: not a regular file"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    vocab.unlink()
    vocab.symlink_to("/dev/zero")  # endless: never read
    assert refused(graph, capsys) == f"error: {vocab}: not a regular file"


def test_a_vocab_json_over_the_cap_is_refused_unread(exported, tmp_path, monkeypatch, capsys):
    graph, vocab = export_copy(exported, tmp_path)
    assert reading.MAX_VOCAB_BYTES == 1 << 30
    monkeypatch.setattr(reading, "MAX_VOCAB_BYTES", vocab.stat().st_size - 1, raising=False)
    assert refused(graph, capsys) == (f"error: {vocab}: larger than 0 GiB, more than an "
                                      "export ever holds")


def rehashed(exported, tmp_path, edit) -> Path:
    """A copy of the export whose vocab.json `edit` changed, its hash put in the graph."""
    graph, vocab = export_copy(exported, tmp_path)
    description = json.loads(vocab.read_text())
    edit(description)
    vocab.write_text(json.dumps(description))
    model = onnx.load(str(graph))
    for entry in model.metadata_props:
        if entry.key == VOCAB_HASH_KEY:
            entry.value = hashlib.sha256(vocab.read_bytes()).hexdigest()
    graph.write_bytes(model.SerializeToString())
    return graph


def test_a_vocab_json_of_another_graph_is_one_line(exported, tmp_path, capsys):
    graph = rehashed(exported, tmp_path, lambda d: d.update(labels=d["labels"][:1]))
    line = refused(graph, capsys)
    assert "the graph gave tag id" in line and "names 1 labels; are they one export?" in line

    def more_words(description):  # ids past the graph's embedding rows
        description["words"] += [f"zq{i}" for i in range(10**5)] + ["zqxv"]

    graph = rehashed(exported, tmp_path, more_words)
    assert main(["tag", "--model", str(graph), "zqxv flew ."]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {graph}: the graph failed (")
    assert line.endswith("are the graph and its .vocab.json one export?")
    with pytest.raises(NerError, match=f"^{graph}: the graph failed"):
        Tagger.load(graph).tag(["zqxv flew ."])


class FailingSession:
    """An onnxruntime session whose every run raises `error`."""

    def __init__(self, error):
        self.error = error

    def run(self, *_):
        raise self.error


def test_running_out_of_memory_in_the_graph_stays_a_memory_error(exported):
    tagger = Tagger.load(exported[1])
    tagger.network.session = FailingSession(RuntimeError(
        "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for "
        "requested buffer of size 800000000"))
    with pytest.raises(MemoryError):
        tagger.tag(["Maria flew ."])
    tagger.network.session = FailingSession(MemoryError())
    with pytest.raises(MemoryError):
        tagger.tag(["Maria flew ."])


def test_a_torch_export_program_is_named(tmp_path, capsys):
    program = tmp_path / "tagger.pt2"
    with zipfile.ZipFile(program, "w") as archive:  # as torch.export saves one
        archive.writestr("tagger/archive_format", "pt2")
    assert refused(program, capsys) == (
        f"error: {program}: a torch.export program (`export --format torch`), which tag "
        "cannot read; tag reads ONNX exports (`export --format onnx`) and model directories")


@pytest.mark.parametrize("name", ["weights.pt", "config.yaml", "vocab.json"])
@pytest.mark.parametrize("command", ["tag", "evaluate", "report"])
def test_a_file_of_the_model_directory_points_to_the_directory(exported, name, command,
                                                                capsys):
    model, _ = exported
    data = [] if command == "tag" else ["--data", str(SAMPLE / "test.conll")]
    text = ["Maria flew ."] if command == "tag" else []
    assert main([command, "--model", str(model / name), *data, *text]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        (f"error: {model / name}: a file of the model directory {model}; give the "
         "directory itself")]


def test_a_missing_file_is_named(tmp_path, capsys):
    assert "no such file" in refused(tmp_path / "absent.onnx", capsys)


def test_a_file_that_is_not_onnx_is_named(tmp_path, capsys):
    other = tmp_path / "notes.txt"
    other.write_text("not a model\n")
    assert "not an ONNX model" in refused(other, capsys)
    other.write_bytes(b"")
    assert "not an ONNX model (the file is empty)" in refused(other, capsys)


def test_a_truncated_export_is_named(exported, tmp_path, capsys):
    data = exported[1].read_bytes()
    graph = copy(exported, tmp_path, data[: len(data) // 2])
    assert "not an ONNX model, or a truncated one" in refused(graph, capsys)


def test_an_onnx_model_that_is_not_ours_is_named(exported, tmp_path, capsys):
    model = onnx.load(str(exported[1]))
    del model.metadata_props[:]
    graph = copy(exported, tmp_path, model.SerializeToString())
    assert f"did not write (no {VERSION_KEY} in its metadata)" in refused(graph, capsys)


def test_another_export_version_is_named(exported, tmp_path, capsys):
    model = onnx.load(str(exported[1]))
    for entry in model.metadata_props:
        if entry.key == VERSION_KEY:
            entry.value = "99"
    graph = copy(exported, tmp_path, model.SerializeToString())
    assert "export version '99', this ner_rnn" in refused(graph, capsys)


def test_a_missing_or_foreign_vocab_json_is_named(exported, tmp_path, capsys):
    graph = copy(exported, tmp_path)
    vocab = tmp_path / "copy.onnx.vocab.json"
    description = json.loads(vocab.read_text())
    description["labels"] = description["labels"][::-1]
    vocab.write_text(json.dumps(description))
    line = refused(graph, capsys)
    assert line.startswith(f"error: {vocab}: not the vocabularies {graph} was exported with")
    vocab.unlink()
    assert refused(graph, capsys) == (f"error: {vocab}: missing (`ner-rnn export` writes it "
                                      "beside copy.onnx)")


def test_without_onnxruntime_the_extra_is_named(exported, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    assert "needs the onnx extra (onnxruntime is missing)" in refused(exported[1], capsys)
