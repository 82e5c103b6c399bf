"""`ner-rnn export`: the whole tagger, decoding included, as one ONNX graph or one
torch.export program, tagging exactly as the model directory does."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ner_rnn.cli import main
from ner_rnn.config import load_config
from ner_rnn.data.batching import collate
from ner_rnn.data.conll import read_conll
from ner_rnn.data.encoding import encode_tokens
from ner_rnn.data.examples import Preprocessor
from ner_rnn.export.files import VOCAB_HASH_KEY
from ner_rnn.model.ensemble import EnsembleNetwork
from ner_rnn.model.network import build_network
from ner_rnn.model_dir import load_model, save_description, save_metrics, save_weights
from tests.conftest import ROOT, SAMPLE

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

# A covering set of the options that change the graph: every value of every option
# appears at least once (the full product would take an hour of exports).
CONFIGS = {
    "softmax-rnn-bi-1-nochars": ["model.head.type=softmax", "model.encoder.type=rnn"],
    "softmax-gru-uni-2-cnn-context-casing": [
        "model.head.type=softmax", "model.encoder.type=gru", "model.encoder.bidirectional=false",
        "model.encoder.num_layers=2", "model.embeddings.char.type=cnn",
        "model.document_context=40", "model.embeddings.casing_dim=3"],
    "softmax-unconstrained-lstm-uni-1-charlstm": [
        "model.head.type=softmax", "model.head.constrain=false", "model.encoder.type=lstm",
        "model.encoder.bidirectional=false", "model.embeddings.char.type=lstm",
        "model.scheme=iob2"],
    "crf-lstm-bi-2-charlstm-context-casing": [
        "model.head.type=crf", "model.encoder.type=lstm", "model.encoder.num_layers=2",
        "model.embeddings.char.type=lstm", "model.document_context=40",
        "model.embeddings.casing_dim=3", "train.mixed_precision=true"],
    "crf-relu-rnn-uni-2-cnn": [
        "model.head.type=crf", "model.encoder.type=rnn", "model.encoder.activation=relu",
        "model.encoder.bidirectional=false", "model.encoder.num_layers=2",
        "model.embeddings.char.type=cnn", "model.embeddings.char.width=2"],
    "crf-unconstrained-gru-bi-1-cnn-casing": [
        "model.head.type=crf", "model.head.constrain=false", "model.encoder.type=gru",
        "model.embeddings.char.type=cnn", "model.embeddings.casing_dim=3",
        "model.scheme=iob1"],
}


def make_model(directory, *overrides, members=1):
    """A model directory of random weights (no training: equality needs none), tiny."""
    config = load_config(None, [f"data.train={SAMPLE / 'train.conll'}",
                                "model.embeddings.word.dim=8", "model.encoder.hidden_size=6",
                                "model.embeddings.char.dim=4", "model.embeddings.char.filters=5",
                                "model.embeddings.char.hidden_size=3", *overrides])
    preprocessor = Preprocessor.for_training(config, read_conll(SAMPLE / "train.conll"))
    networks = [build_network(preprocessor.config, preprocessor.vocabs) for _ in range(members)]
    with torch.no_grad():  # scores far apart: a tie would make equality a matter of luck
        for parameter in (p for network in networks for p in network.parameters()):
            parameter.normal_()
    directory.mkdir()
    save_description(directory, preprocessor.config, preprocessor.vocabs, members)
    if members == 1:
        save_weights(directory, networks[0])
    else:
        save_weights(directory, EnsembleNetwork(networks))
    save_metrics(directory, [])
    return directory


def sample_batches(model):
    """Batches of the sample test sentences: ragged lengths (with document context, rows
    of several sentences), a batch of one, a one-token sentence of one character alone
    and among others."""
    config, vocabs, network = load_model(model)
    for module in network.modules():  # the graph runs in float32, as a CPU without bfloat16
        if hasattr(module, "mixed_precision"):
            module.mixed_precision = False
    preprocessor = Preprocessor(config, vocabs)
    tokens = [s.tokens for s in read_conll(SAMPLE / "test.conll")] + [["A"], ["Paris"]]
    encoded = encode_tokens(vocabs, [t for s in tokens for t in s], [len(s) for s in tokens],
                            preprocessor.char_length)
    last = len(tokens) - 1
    plans = [*preprocessor.batches(encoded, 7), [[0]], [[last - 1]], [[last]],
             [[last - 1], [0], [last]]]
    return network, [collate(encoded, rows) for rows in plans]


def feeds(batch, names):
    rows, sentences = batch.rows, batch.sentences
    values = {"words": rows.words, "casing": rows.casing, "chars": rows.chars,
              "spelling": rows.spelling, "lengths": rows.lengths,
              "positions": sentences.positions, "sentence_lengths": sentences.lengths}
    return [values[name] for name in names]


def export(model, output, *options):
    assert main(["export", "--model", str(model), "--output", str(output), *options]) == 0
    return json.loads(output.with_name(output.name + ".vocab.json").read_text())


@pytest.mark.parametrize("name", CONFIGS)
def test_both_formats_decode_the_test_set_as_the_model_directory_does(tmp_path, name):
    model = make_model(tmp_path / "model", *CONFIGS[name])
    onnx_description = export(model, tmp_path / "tagger.onnx")
    torch_description = export(model, tmp_path / "tagger.pt2", "--format", "torch")
    assert onnx_description == torch_description
    context = [o for o in CONFIGS[name] if o.startswith("model.document_context=")]
    assert onnx_description["document_context"] == (40 if context else None)  # None: off
    names = onnx_description["inputs"]
    session = ort.InferenceSession(str(tmp_path / "tagger.onnx"))
    assert [i.name for i in session.get_inputs()] == names
    # recurrences are ONNX LSTM, GRU or Scan nodes: a Loop (as the exporter writes an
    # embedding_bag) runs op by op, a hundred times slower
    graph = onnx.load(str(tmp_path / "tagger.onnx")).graph
    assert "Loop" not in {node.op_type for node in graph.node}
    extra = {VOCAB_HASH_KEY: ""}
    program = torch.export.load(str(tmp_path / "tagger.pt2"), extra_files=extra).module()
    vocab = (tmp_path / "tagger.pt2.vocab.json").read_bytes()
    assert extra[VOCAB_HASH_KEY] == hashlib.sha256(vocab).hexdigest()
    network, batches = sample_batches(model)
    for batch in batches:
        expected = network.head.decode(network.potentials(batch), batch.sentences.mask)
        inputs = feeds(batch, names)
        found = session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})[0]
        assert np.array_equal(found, expected.numpy()), batch.indices
        assert torch.equal(program(*inputs), expected), batch.indices


def test_an_ensemble_exports_its_averaged_decoding(tmp_path):
    model = make_model(tmp_path / "model", "model.head.type=crf", members=2)
    names = export(model, tmp_path / "tagger.onnx")["inputs"]
    session = ort.InferenceSession(str(tmp_path / "tagger.onnx"))
    network, batches = sample_batches(model)
    for batch in batches:
        expected = network.head.decode(network.potentials(batch), batch.sentences.mask)
        found = session.run(None, {n: x.numpy() for n, x in zip(names, feeds(batch, names))})
        assert np.array_equal(found[0], expected.numpy()), batch.indices


def test_export_says_one_line_and_nothing_of_the_exporters(tmp_path):
    """The ONNX optimiser logs hundreds of lines ("Skipping constant folding ...",
    "Replaced initializer ...") and torch.export warns; none of it reaches the user."""
    model = make_model(tmp_path / "model", "model.head.type=crf",
                       "model.embeddings.char.type=cnn")
    for output, options in ((tmp_path / "t.onnx", []), (tmp_path / "t.pt2", ["--format", "torch"])):
        done = subprocess.run([sys.executable, "-m", "ner_rnn", "export", "--model", str(model),
                               "--output", str(output), *options],
                              capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""
        assert done.stderr.splitlines() == [f"exported {model} to {output}"]


def test_an_existing_output_is_refused_without_overwrite(tmp_path, capsys):
    output = tmp_path / "tagger.onnx"
    output.write_text("mine")
    assert main(["export", "--model", str(tmp_path / "model"), "--output", str(output)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert output.read_text() == "mine"


@pytest.mark.parametrize("format", ["onnx", "torch"])
def test_native_cells_are_refused_naming_the_config_key(tmp_path, capsys, format):
    model = make_model(tmp_path / "model", "model.encoder.implementation=native")
    output = tmp_path / "t.out"
    assert main(["export", "--model", str(model), "--output", str(output),
                 "--format", format]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: model.encoder.implementation:")
    assert not output.exists() and not (tmp_path / "t.out.vocab.json").exists()
