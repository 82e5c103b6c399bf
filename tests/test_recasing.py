"""evaluate --transform: a corpus scored with its tokens re-cased and its tags unchanged."""

import json

import pytest

from ner_rnn.cli import main
from ner_rnn.data.conll import Sentence, read_conll
from ner_rnn.data.recasing import TRANSFORMS, recase, recased_copies
from tests.conftest import ROOT, SAMPLE


def test_recase_changes_tokens_and_keeps_tags_and_origin():
    sentence = Sentence(["The", "Apple", "is", "in", "new", "york-based", "ISO"],
                        ["O", "B-ORG", "O", "O", "B-LOC", "I-LOC", "B-ORG"], line=7, document=2)
    lowered, = recase([sentence], "lowercase")
    assert lowered.tokens == ["the", "apple", "is", "in", "new", "york-based", "iso"]
    assert (lowered.tags, lowered.line, lowered.document) == (sentence.tags, 7, 2)
    assert recase([sentence], "uppercase")[0].tokens[1] == "APPLE"
    assert recase([sentence], "titlecase")[0].tokens[4:] == ["New", "York-Based", "Iso"]
    assert sentence.tokens[1] == "Apple"  # the input is not changed in place


def test_an_unknown_transform_is_refused():
    with pytest.raises(ValueError, match="lowercase, uppercase, titlecase"):
        recase([], "swapcase")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    directory = tmp_path_factory.mktemp("recasing") / "model"
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(directory), "--set", "train.epochs=3",
                 "--set", f"data.train={SAMPLE / 'train.conll'}",
                 "--set", f"data.dev={SAMPLE / 'dev.conll'}", "--set", "data.test=null"]) == 0
    return directory


@pytest.mark.parametrize("transform", ["lowercase", "uppercase", "titlecase"])
def test_evaluate_transform_scores_as_the_recased_file_would(model, tmp_path, capsys,
                                                             transform):
    recased = tmp_path / "recased.conll"
    rows = ["\n".join(f"{token} {tag}" for token, tag in zip(s.tokens, s.tags))
            for s in recase(read_conll(SAMPLE / "test.conll"), transform)]
    recased.write_text("\n\n".join(rows) + "\n", encoding="utf-8")
    assert main(["evaluate", "--model", str(model), "--data", str(recased),
                 "--format", "json"]) == 0
    expected = json.loads(capsys.readouterr().out)

    written = tmp_path / "predicted.txt"
    assert main(["evaluate", "--model", str(model), "--data", str(SAMPLE / "test.conll"),
                 "--transform", transform, "--output", str(written), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected
    tokens = [line.split()[0] for line in written.read_text().splitlines() if line]
    assert tokens == [token for row in rows for token in
                      (line.split()[0] for line in row.splitlines())]


def test_transform_changes_what_a_case_sensitive_model_sees(model, capsys):
    scores = {}
    for transform in ([], ["--transform", "uppercase"]):
        assert main(["evaluate", "--model", str(model), "--data", str(SAMPLE / "test.conll"),
                     "--format", "json", *transform]) == 0
        scores[bool(transform)] = json.loads(capsys.readouterr().out)["token_accuracy"]
    assert scores[True] != scores[False]  # the casing feature sees every token in capitals


def test_transform_is_refused_with_predictions(tmp_path, capsys):
    predictions = tmp_path / "p.txt"
    predictions.write_text("Apple B-ORG B-ORG\n", encoding="utf-8")
    assert main(["evaluate", "--predictions", str(predictions), "--transform", "lowercase"]) != 0
    assert "--transform" in capsys.readouterr().err


def _documents(count: int, sentences: int) -> list[Sentence]:
    return [Sentence([f"Word{d}", f"in{n}"], ["B-ORG", "O"], line=10 * d + n, document=d)
            for d in range(count) for n in range(sentences)]


def test_recased_copies_are_whole_documents_each_in_one_casing_after_the_corpus():
    corpus = _documents(200, 3)
    copies = recased_copies(corpus, 0.25, seed=7)
    assert copies == recased_copies(corpus, 0.25, seed=7)  # a resumed run gets the same
    assert copies != recased_copies(corpus, 0.25, seed=8)
    by_document = {}
    for copy in copies:
        by_document.setdefault(copy.document, []).append(copy)
    assert min(by_document) == 200 and 30 < len(by_document) < 70  # about a quarter
    for sentences in by_document.values():
        original = [s for s in corpus if s.line // 10 == sentences[0].line // 10]
        assert [s.line for s in sentences] == [s.line for s in original]  # whole, in order
        assert [s.tags for s in sentences] == [s.tags for s in original]
        cased = [name for name, change in TRANSFORMS.items()
                 if [s.tokens for s in sentences] == [[change(t) for t in s.tokens]
                                                     for s in original]]
        assert cased  # one transform for the whole document
    used = {name for sentences in by_document.values() for name, change in TRANSFORMS.items()
            if sentences[0].tokens[0] == change(f"Word{sentences[0].line // 10}")}
    assert used == set(TRANSFORMS)


def test_recased_copies_of_a_corpus_without_documents_are_drawn_by_sentence():
    corpus = _documents(1, 400)
    copies = recased_copies(corpus, 0.5, seed=1)
    assert 150 < len(copies) < 250 and len({c.document for c in copies}) == len(copies)
    assert recased_copies(corpus, 0.0, seed=1) == [] and len(recased_copies(corpus, 1.0, 1)) == 400


def test_training_on_recased_copies_holds_better_on_lowercased_text(tmp_path, capsys):
    """The sample corpus's names are capitalised: a model trained without copies loses
    them in lowercased text; one trained with every document also re-cased finds them."""
    scores = {}
    for share in (0.0, 1.0):
        directory = tmp_path / f"share{share}"
        assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                     "--output-dir", str(directory), "--set", "threads=1",
                     "--set", "train.epochs=12",
                     "--set", f"train.augment_casing={share}",
                     "--set", f"data.train={SAMPLE / 'train.conll'}",
                     "--set", f"data.dev={SAMPLE / 'dev.conll'}", "--set", "data.test=null"]) == 0
        capsys.readouterr()
        assert main(["evaluate", "--model", str(directory), "--data",
                     str(SAMPLE / "test.conll"), "--transform", "lowercase",
                     "--format", "json"]) == 0
        scores[share] = json.loads(capsys.readouterr().out)["overall"]["f1"]
    assert scores[1.0] > scores[0.0] + 0.1
