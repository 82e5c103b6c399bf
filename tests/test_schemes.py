import pytest

from ner_rnn.data.schemes import conlleval_spans, convert, detect_scheme, spans, tags_from_spans

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
