"""Hostile input IV (issue 22, items 17-24): output directories that can never take the
model, benchmark inputs, Python API arguments, BOMs inside input, line breaks in
command-line sentences, leftovers of killed runs, wrapped prediction columns."""

import os

import pytest

from ner_rnn.cli import main
from ner_rnn.config import load_config
from ner_rnn.errors import ModelError
from ner_rnn.train import loop as training
from ner_rnn.train.loop import train
from tests.test_hostile_iii import TINY, corpus, model  # noqa: F401 (fixtures)


def tiny_config(corpus, *overrides):
    return load_config(None, TINY + [f"data.train={corpus}", *overrides])


def never_train(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(training, "train_epoch", fail)


@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_an_unfollowable_symlink_output_is_refused_before_training(kind, corpus, tmp_path,
                                                                   monkeypatch):
    never_train(monkeypatch)
    link = tmp_path / "model"
    os.symlink(tmp_path / "missing" if kind == "dangling" else link, link)
    with pytest.raises(ModelError, match="model: is a symlink"):
        train(tiny_config(corpus), link)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging, no .old-*


def test_the_current_directory_is_refused_before_training(model, corpus, write, tmp_path,
                                                        monkeypatch, capsys):
    never_train(monkeypatch)
    config = write("empty.yaml", "")
    monkeypatch.chdir(model)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["train", "--config", str(config), "--set", f"data.train={corpus}", *[a for key in TINY for a in ("--set", key)],
                 "--output-dir", ".", "--overwrite"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: .: is the current directory") and "\n" not in err
    assert not [p for p in model.parent.iterdir() if p.name.startswith(".")]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_benchmark_checks_its_tag_file_before_training(corpus, write, tmp_path, monkeypatch,
                                                      capsys):
    from ner_rnn import benchmark

    monkeypatch.setattr(benchmark, "start", lambda *args: pytest.fail("training started"))
    missing = tmp_path / "nonexistent"
    assert main(["benchmark", "--config", str(write("empty.yaml", "")), "--train", str(corpus),
                 "--tag", str(missing), *[a for key in TINY for a in ("--set", key)]]) != 0
    err = capsys.readouterr().err
    assert err.startswith(f"error: {missing}") and err.count("\n") == 1


@pytest.mark.parametrize("call, error, message", [
    (lambda t: t.tag("one string"), TypeError, "texts must be a list of lines, got str"),
    (lambda t: t.tag([b"bytes"]), TypeError, "texts must hold strings, got a bytes"),
    (lambda t: t.tag(["x"], scheme="bogus"), ValueError, "scheme must be one of iob1, iob2"),
    (lambda t: t.tag(["x"], nbest=None), TypeError, "nbest must be an int, got NoneType"),
    (lambda t: t.tag(["x"], nbest=2.0), TypeError, "nbest must be an int, got float"),
    (lambda t: t.predict(["Maria", "Lopez"]), TypeError, "each sentence must be a list"),
    (lambda t: t.predict("Maria"), TypeError, "sentences must be a list"),
    (lambda t: t.predict([["x"]], scheme="IOB2"), ValueError, "scheme must be one of"),
    (lambda t: t.evaluate([], scheme="bogus"), ValueError, "scheme must be one of"),
])
def test_the_python_api_checks_its_arguments(model, call, error, message):
    from ner_rnn.serve.tagger import Tagger

    with pytest.raises(error, match=message):
        call(Tagger.load(model))


def test_tagger_load_checks_the_implementation(model):
    from ner_rnn.serve.tagger import Tagger

    with pytest.raises(ValueError, match="implementation must be one of torch, native, got 'bogus'"):
        Tagger.load(model, implementation="bogus")
    assert Tagger.load(model, implementation="native").tag(["Maria flew"])[0]["tokens"] == [
        "Maria", "flew"]


def test_a_bom_starting_any_line_or_argument_is_dropped(model, write, capsys):
    import json

    joined = write("joined.txt", "\ufeffMaria flew\n\ufeffto Paris\n")  # cat a b of BOM files
    assert main(["tag", "--model", str(model), "--input", str(joined), "--format", "json"]) == 0
    tokens = [json.loads(line)["tokens"] for line in capsys.readouterr().out.splitlines()]
    assert tokens == [["Maria", "flew"], ["to", "Paris"]]
    assert main(["tag", "--model", str(model), "--format", "json", "\ufeffMaria flew"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == ["Maria", "flew"]
    conll = write("joined.conll", "\ufeffMaria B-PER\n\n\ufeffParis B-LOC\n")
    from ner_rnn.data.conll import read_conll

    assert [s.tokens for s in read_conll(conll)] == [["Maria"], ["Paris"]]


def test_a_line_break_in_an_argument_splits_it_as_in_a_file(model, capsys):
    import json

    assert main(["tag", "--model", str(model), "--format", "json", "Maria flew\nto Paris"]) == 0
    tokens = [json.loads(line)["tokens"] for line in capsys.readouterr().out.splitlines()]
    assert tokens == [["Maria", "flew"], ["to", "Paris"]]
    assert main(["tag", "--model", str(model), "ok", "Maria\rParis"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: <arguments>:2: carriage return inside a line")
    assert err.count("\n") == 1


# 24. a line whose last columns wrapped onto the next is the line named
WRAPPED = "EU NNP B-ORG\nB-ORG\nrejects VBZ O O\nGerman JJ B-MISC B-MISC\n"  # line 1 wrapped


@pytest.mark.parametrize("text, message", [
    (WRAPPED, ("p.txt:1: expected 4 columns (token ... gold predicted) as on line 3, got 3: "
               "'EU NNP B-ORG'")),
    ("EU NNP B-ORG B-ORG\nrejects VBZ O\nO\n",
     ("p.txt:2: expected 4 columns (token ... gold predicted) as on line 1, got 3: "
      "'rejects VBZ O'")),
    ("EU NNP\nB-ORG B-ORG\nrejects VBZ O O\nGerman JJ B-MISC B-MISC\n",  # 2, 2, 4, 4
     "p.txt:1: expected 4 columns (token ... gold predicted) as on line 3, got 2: 'EU NNP'"),
])
def test_a_wrapped_predictions_line_is_the_one_named(write, capsys, text, message):
    path = write("p.txt", text)
    assert main(["evaluate", "--predictions", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path.parent}/{message}\n"


@pytest.mark.parametrize("text, message", [
    ("EU NNP B-NP\nB-ORG\nrejects VBZ B-VP O\n",
     "a.conll:1: expected 4 columns as on line 3, got 3: 'EU NNP B-NP'"),
    ("EU NNP\nB-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n",
     "a.conll:1: expected 4 columns as on line 3, got 2"),
    # a one-token sentence wrapped: held to the sentence before
    ("EU NNP B-NP B-ORG\n\nPeter NNP B-NP\nB-PER\n",
     "a.conll:3: expected 4 columns as on line 1, got 3"),
    ("a NN O\nb O\n", "a.conll:2: expected 3 columns as on line 1, got 2"),  # no wrap: as before
])
def test_a_wrapped_corpus_line_is_the_one_named(write, text, message):
    from ner_rnn.data.conll import read_conll
    from ner_rnn.errors import DataFormatError

    with pytest.raises(DataFormatError) as error:
        read_conll(write("a.conll", text))
    assert message in str(error.value)


def test_evaluate_and_report_name_the_wrapped_line(model, write, capsys):
    data = write("dev.conll", "Maria NNP B-NP B-PER\n\nMaria NNP B-NP\nB-PER\nflew VBD B-VP O\n")
    for command in ("evaluate", "report"):
        assert main([command, "--model", str(model), "--data", str(data)]) == 2
        assert capsys.readouterr().err.startswith(
            f"error: {data}:3: expected 4 columns as on line 5, got 3")
