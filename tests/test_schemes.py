import pytest

from ner_rnn.cli import main
from ner_rnn.data.schemes import conlleval_spans, convert, detect_scheme, spans, tags_from_spans
from ner_rnn.errors import DataFormatError

IOB1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "O", "I-MISC"]
IOB2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "O", "B-MISC"]
BIOES = ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "S-ORG", "O", "S-MISC"]
SPANS = [(0, 2, "PER"), (2, 3, "PER"), (4, 5, "LOC"), (5, 6, "ORG"), (7, 8, "MISC")]


@pytest.mark.parametrize("tags, scheme", [(IOB1, "iob1"), (IOB2, "iob2"), (BIOES, "bioes")])
def test_spans_in_each_scheme(tags, scheme):
    assert spans(tags, scheme) == SPANS


@pytest.mark.parametrize("source", [IOB1, IOB2, BIOES])
@pytest.mark.parametrize("target, expected", [("iob1", IOB1), ("iob2", IOB2), ("bioes", BIOES)])
def test_conversion_is_lossless(source, target, expected):
    name = {id(IOB1): "iob1", id(IOB2): "iob2", id(BIOES): "bioes"}[id(source)]
    assert convert(source, name, target) == expected


def test_conlleval_chunk_rules():
    # an I- after O or after another type starts an entity; a type change splits a chunk
    assert conlleval_spans(["O", "I-PER", "I-LOC", "B-LOC"]) == [
        (1, 2, "PER"), (2, 3, "LOC"), (3, 4, "LOC")]
    # B- after an entity of the same type starts a new one; entities end at sentence end
    assert conlleval_spans(["B-ORG", "B-ORG", "I-ORG"]) == [(0, 1, "ORG"), (1, 3, "ORG")]
    assert conlleval_spans([]) == []


def test_iob1_marks_b_only_between_touching_entities_of_one_type():
    assert tags_from_spans([(0, 1, "LOC"), (1, 2, "LOC"), (2, 3, "PER")], 3, "iob1") == [
        "I-LOC", "B-LOC", "I-PER"]


def test_detect_scheme():
    assert detect_scheme([IOB1]) == "iob1"
    assert detect_scheme([IOB2]) == "iob2"
    assert detect_scheme([BIOES]) == "bioes"
    assert detect_scheme([["O", "O"]]) == "iob2"
    assert detect_scheme([["I-PER", "B-PER"], ["O", "I-LOC"]]) == "iob1"  # B- only splits


def test_detect_scheme_weighs_both_kinds_of_evidence():
    # one stray I- in an IOB2 corpus used to make it IOB1: perfect predictions then
    # scored F1 1.0 with token accuracy 0.5, and `tag` wrote IOB1
    stray = [["B-PER", "I-PER", "O"], ["O", "O"], ["I-LOC", "O"]]
    with pytest.raises(DataFormatError, match=r"^c\.conll: mixed tag schemes: I-LOC starts an "
                       r"entity at line 9 \(IOB1\) and B-PER at line 1 \(IOB2\); set "
                       r"data.scheme"):
        detect_scheme(stray, "c.conll", [1, 5, 9])
    with pytest.raises(DataFormatError, match="at line 3 .* at line 1 "):
        detect_scheme(stray)  # sentence numbers when no lines are known


def test_mixed_schemes_in_a_file_are_one_error_naming_its_lines(tmp_path, capsys):
    corpus = tmp_path / "mixed.conll"
    corpus.write_text("Ann B-PER\nlives O\n\nin O\nI-Paris I-LOC\n", encoding="utf-8")
    assert main(["convert", "--input", str(corpus), "--output", str(tmp_path / "out.jsonl"),
                 "--to", "jsonl"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mixed tag schemes" in err and "line 4" in err
    assert not (tmp_path / "out.jsonl").exists()
