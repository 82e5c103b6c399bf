"""`ner-rnn tag --model FILE.onnx` and `Tagger.load("FILE.onnx")`: the exported graph run
by onnxruntime tags byte for byte as the model directory does; a file that is not such an
export is one error line naming it."""

import json
import os
import subprocess
import sys

import pytest

from ner_rnn.cli import main
from ner_rnn.export.files import VERSION_KEY
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


def test_evaluate_is_refused_with_an_export(exported, capsys):
    _, graph = exported
    assert main(["evaluate", "--model", str(graph), "--data",
                 str(SAMPLE / "test.conll")]) == 2
    assert "evaluate needs the model directory" in capsys.readouterr().err


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
