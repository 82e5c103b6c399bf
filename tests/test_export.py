"""`ner-rnn export`: the whole tagger, decoding included, as one ONNX graph."""

import json

import numpy as np
import pytest

from ner_rnn.cli import main
from ner_rnn.data.batching import collate
from ner_rnn.data.conll import read_conll
from ner_rnn.data.encoding import encode_tokens
from ner_rnn.data.examples import Preprocessor
from ner_rnn.model_dir import load_model
from tests.conftest import ROOT, SAMPLE

ort = pytest.importorskip("onnxruntime")


def train(directory, *overrides):
    sets = ["train.epochs=1", f"data.train={SAMPLE / 'train.conll'}",
            f"data.dev={SAMPLE / 'dev.conll'}", "data.test=null", "model.encoder.hidden_size=16",
            *overrides]
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(directory),
                 *(part for key in sets for part in ("--set", key))]) == 0
    return directory


def feeds(batch, names):
    rows, sentences = batch.rows, batch.sentences
    values = {"words": rows.words, "casing": rows.casing, "chars": rows.chars,
              "spelling": rows.spelling, "lengths": rows.lengths,
              "positions": sentences.positions, "sentence_lengths": sentences.lengths}
    return {name: values[name].numpy() for name in names}


def test_the_onnx_graph_decodes_the_test_set_as_the_torch_model_does(tmp_path):
    model = train(tmp_path / "model", "model.head.type=crf", "model.encoder.num_layers=2")
    output = tmp_path / "tagger.onnx"
    assert main(["export", "--model", str(model), "--output", str(output)]) == 0
    description = json.loads((tmp_path / "tagger.onnx.vocab.json").read_text())
    assert description["document_context"] is None  # off (it said 0 before null did)
    session = ort.InferenceSession(str(output))
    assert [i.name for i in session.get_inputs()] == description["inputs"]
    config, vocabs, network = load_model(model)
    preprocessor = Preprocessor(config, vocabs)
    tokens = [s.tokens for s in read_conll(SAMPLE / "test.conll")]
    encoded = encode_tokens(vocabs, [t for s in tokens for t in s], [len(s) for s in tokens],
                            preprocessor.char_length)
    for rows in preprocessor.batches(encoded, 7):  # ragged lengths in every batch
        batch = collate(encoded, rows)
        expected = network.head.decode(network.potentials(batch), batch.sentences.mask)
        found = session.run(None, feeds(batch, description["inputs"]))[0]
        assert np.array_equal(found, expected.numpy())


def test_an_existing_output_is_refused_without_overwrite(tmp_path, capsys):
    output = tmp_path / "tagger.onnx"
    output.write_text("mine")
    assert main(["export", "--model", str(tmp_path / "model"), "--output", str(output)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert output.read_text() == "mine"


def test_native_cells_are_refused_naming_the_config_key(tmp_path, capsys):
    model = train(tmp_path / "model", "model.encoder.implementation=native")
    assert main(["export", "--model", str(model), "--output", str(tmp_path / "t.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: model.encoder.implementation:")
    assert not (tmp_path / "t.onnx").exists()
