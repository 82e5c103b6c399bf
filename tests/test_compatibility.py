"""Models written by ner_rnn 0.1.0 (before the restructuring) load and tag identically.

The fixtures were trained on the sample corpus with the code as it was, and their
outputs recorded then: tags, entities and k-best paths must match exactly, probabilities
to 5e-5 relative: the forward algorithm may add in another order, and the recorded
ones carry float32 rounding of log Z (|log Z| reaches 80 here, where one float32 step
is 7.6e-6; they differ from the float64 value by up to 1.2e-5).
"""

import json
import math

import pytest

from ner_rnn.cli import main
from ner_rnn.model_dir import load_model, save_description
from tests.conftest import ROOT, SAMPLE

FIXTURES = ROOT / "tests" / "fixtures"
MODELS = ["model_0_1_crf", "model_0_1_softmax"]


def _assert_close(found, expected, where="result"):
    if isinstance(expected, float):
        assert math.isclose(found, expected, rel_tol=5e-5, abs_tol=1e-7), where
    elif isinstance(expected, dict):
        assert isinstance(found, dict) and set(found) == set(expected), where
        for key in expected:
            _assert_close(found[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(found, list) and len(found) == len(expected), where
        for index, (a, b) in enumerate(zip(found, expected)):
            _assert_close(a, b, f"{where}[{index}]")
    else:
        assert found == expected, where


@pytest.mark.parametrize("name", MODELS)
def test_old_model_tags_identically(name, tmp_path):
    output = tmp_path / "tagged.jsonl"
    assert main(["tag", "--model", str(FIXTURES / name), "--input",
                 str(FIXTURES / "sentences.txt"), "--nbest", "3", "--confidence",
                 "--output", str(output)]) == 0
    found = [json.loads(line) for line in output.read_text().splitlines()]
    expected = [json.loads(line)
                for line in (FIXTURES / name / "expected_tag.jsonl").read_text().splitlines()]
    _assert_close(found, expected)


@pytest.mark.parametrize("name", MODELS)
def test_old_model_scores_identically(name, capsys):
    assert main(["evaluate", "--model", str(FIXTURES / name), "--data",
                 str(SAMPLE / "test.conll"), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    expected = json.loads((FIXTURES / name / "expected_evaluate.json").read_text())
    _assert_close(found, expected)


def test_old_model_saying_document_context_0_reads_and_saves_it_as_null(tmp_path):
    """0 was how document context was switched off; it now reads as null, the new spelling,
    and a model saved again from it says null."""
    assert "document_context: 0\n" in (FIXTURES / "model_0_1_softmax" / "config.yaml").read_text()
    config, vocabs, _ = load_model(FIXTURES / "model_0_1_softmax")
    assert config.model.document_context is None
    save_description(tmp_path, config, vocabs)
    assert "document_context: null\n" in (tmp_path / "config.yaml").read_text()
