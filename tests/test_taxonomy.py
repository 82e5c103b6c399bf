"""The span error taxonomy: each category on hand-worked cases, and its sums on random tags."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ner_rnn.data.conll import Sentence
from ner_rnn.data.schemes import spans, tags_from_spans
from ner_rnn.metrics import score
from ner_rnn.report.analysis import analyse
from ner_rnn.report.taxonomy import (
    GOLD_CATEGORIES,
    PREDICTED_CATEGORIES,
    Tally,
    classify,
    confusions,
)


def categories(gold_tags, predicted_tags, scheme="iob2"):
    return classify(spans(gold_tags.split(), scheme), spans(predicted_tags.split(), scheme))


@pytest.mark.parametrize("gold, predicted, expected", [
    # Yuki Tanaka of MIT
    ("B-PER I-PER O B-ORG", "B-PER I-PER O B-ORG", (["correct"] * 2, ["correct"] * 2)),
    ("B-PER I-PER O O", "B-ORG I-ORG O O", (["wrong_type"], ["wrong_type"])),
    # a prediction nested inside the gold span: Ministry [of Health]
    ("B-ORG I-ORG I-ORG", "O B-ORG I-ORG", (["wrong_boundary"], ["wrong_boundary"])),
    # a prediction running past the gold span on both sides
    ("O B-LOC O", "B-LOC I-LOC I-LOC", (["wrong_boundary"], ["wrong_boundary"])),
    # overlapping, crossing the boundary, another type
    ("B-ORG I-ORG O", "O B-LOC I-LOC", (["wrong_boundary_and_type"],
                                        ["wrong_boundary_and_type"])),
    ("B-PER O", "O O", (["missed"], [])),
    ("O O", "O B-LOC", ([], ["spurious"])),
    # a gold span split into a prediction of its type and one of another type
    ("B-MISC I-MISC I-MISC", "B-MISC O B-ORG",
     (["wrong_boundary"], ["wrong_boundary", "wrong_boundary_and_type"])),
    # two adjacent gold spans merged into one prediction
    ("B-PER B-PER", "B-PER I-PER", (["wrong_boundary"] * 2, ["wrong_boundary"])),
    # the same span with another type wins over nothing else: it is a wrong type
    ("B-LOC I-LOC B-PER", "B-ORG I-ORG O", (["wrong_type", "missed"], ["wrong_type"])),
])
def test_each_category_on_hand_worked_sentences(gold, predicted, expected):
    assert categories(gold, predicted) == expected


@pytest.mark.parametrize("scheme, gold, predicted", [
    ("iob1", "I-PER B-PER O I-LOC I-LOC", "I-PER I-PER O I-LOC O"),
    ("iob2", "B-PER B-PER O B-LOC I-LOC", "B-PER I-PER O B-LOC O"),
    ("bioes", "S-PER S-PER O B-LOC E-LOC", "B-PER E-PER O S-LOC O"),
])
def test_the_same_entities_in_every_scheme_get_the_same_categories(scheme, gold, predicted):
    assert categories(gold, predicted, scheme) == (
        ["wrong_boundary", "wrong_boundary", "wrong_boundary"],
        ["wrong_boundary", "wrong_boundary"])


def test_ill_formed_iob2_is_read_as_conlleval_reads_it():
    # conlleval: an I-X after O begins an entity, a type change inside a chunk splits it
    assert categories("O I-PER I-PER", "B-PER I-PER I-ORG") == (
        ["wrong_boundary"], ["wrong_boundary", "wrong_boundary_and_type"])


def test_confusions_count_every_overlapping_pair_and_the_unmatched():
    gold = spans(["B-MISC", "I-MISC", "I-MISC", "O", "B-PER", "O"], "iob2")
    predicted = spans(["B-MISC", "O", "B-ORG", "O", "O", "B-LOC"], "iob2")
    assert sorted(confusions(gold, predicted), key=str) == sorted(
        [("MISC", "MISC"), ("MISC", "ORG"), ("PER", None), (None, "LOC")], key=str)


def test_tally_keeps_missed_and_spurious_strings_and_tables_add_up():
    tally = Tally()
    tokens = ["Bush", "met", "Putin", "in", "Moscow"]
    tally.add(tokens, spans(["B-PER", "O", "B-PER", "O", "B-LOC"], "iob2"),
              spans(["O", "O", "B-ORG", "O", "B-LOC"], "iob2"))
    tally.add(["Bush"], [(0, 1, "PER")], [])
    tally.add(["January"], [], [(0, 1, "LOC")])
    assert tally.missed == {("Bush", "PER"): 2}
    assert tally.spurious == {("January", "LOC"): 1}
    gold = tally.table("gold")
    assert gold["per_type"]["PER"] == {"entities": 3, "correct": 0, "wrong_type": 1,
                                       "wrong_boundary": 0, "wrong_boundary_and_type": 0,
                                       "missed": 2}
    assert gold["overall"]["entities"] == 4 and gold["overall"]["correct"] == 1
    predicted = tally.table("predicted")
    assert predicted["per_type"]["LOC"] == {"entities": 2, "correct": 1, "wrong_type": 0,
                                            "wrong_boundary": 0,
                                            "wrong_boundary_and_type": 0, "spurious": 1}


def test_examples_most_errors_first_then_file_order():
    sentences = [Sentence(["a", "b"], ["B-PER", "O"], line=1),  # right
                 Sentence(["c", "d"], ["B-PER", "O"], line=4),  # missed: 1 error
                 Sentence(["e", "f"], ["B-PER", "B-LOC"], line=7),  # one ORG over both: 3
                 Sentence(["g", "h"], ["O", "B-ORG"], line=10)]  # wrong type: 2 errors
    predicted = [["B-PER", "O"], ["O", "O"], ["B-ORG", "I-ORG"], ["O", "B-PER"]]
    result = analyse(sentences, predicted, "iob2", examples=10)
    assert [(e["line"], e["errors"]) for e in result["examples"]] == [(7, 3), (10, 2), (4, 1)]
    assert result["sentences_with_errors"] == 3 and result["sentences"] == 4
    assert [e["line"] for e in analyse(sentences, predicted, "iob2", 2)["examples"]] == [7, 10]
    assert analyse(sentences, predicted, "iob2", 0)["examples"] == []
    example = result["examples"][1]
    assert example["tokens"] == ["g", "h"]
    assert example["gold"] == [{"start": 1, "end": 2, "type": "ORG", "category": "wrong_type"}]
    assert example["predicted"] == [{"start": 1, "end": 2, "type": "PER",
                                     "category": "wrong_type"}]


TYPES = st.sampled_from(["PER", "LOC", "ORG"])
ANY_TAG = st.one_of(st.just("O"), st.builds(lambda p, t: f"{p}-{t}", st.sampled_from("BI"),
                                            TYPES))


@st.composite
def corpora(draw):
    """Sentences of random (also ill-formed) IOB2 gold and predicted tags."""
    sentences, predicted = [], []
    for number in range(draw(st.integers(1, 4))):
        length = draw(st.integers(0, 10))
        tags = st.lists(ANY_TAG, min_size=length, max_size=length)
        sentences.append(Sentence([f"w{i}" for i in range(length)], draw(tags), line=number))
        predicted.append(draw(tags))
    return sentences, predicted


@given(corpora())
def test_counts_add_up_and_agree_with_conlleval(corpus):
    sentences, predicted = corpus
    result = analyse(sentences, predicted, "iob2")
    scores = score([s.tags for s in sentences], predicted)
    gold, guessed = result["errors"]["gold"], result["errors"]["predicted"]
    for table, categories in ((gold, GOLD_CATEGORIES), (guessed, PREDICTED_CATEGORIES)):
        for row in [table["overall"], *table["per_type"].values()]:
            assert sum(row[c] for c in categories) == row["entities"]
    assert gold["overall"]["entities"] == scores["overall"]["support"]
    assert guessed["overall"]["entities"] == scores["overall"]["predicted"]
    for type_, s in scores["per_type"].items():
        assert gold["per_type"].get(type_, {"entities": 0})["entities"] == s["support"]
        assert guessed["per_type"].get(type_, {"entities": 0})["entities"] == s["predicted"]
        for table in (gold, guessed):
            assert table["per_type"].get(type_, {"correct": 0})["correct"] == s["correct"]
    for key in ("correct", "wrong_type"):
        assert gold["overall"][key] == guessed["overall"][key]
    confusion = {(c["gold"], c["predicted"]): c["count"] for c in result["confusion"]}
    for type_, row in gold["per_type"].items():
        assert confusion.get((type_, None), 0) == row["missed"]
    for type_, row in guessed["per_type"].items():
        assert confusion.get((None, type_), 0) == row["spurious"]
    errors = sum(e["errors"] for e in result["examples"])
    assert errors == (gold["overall"]["entities"] + guessed["overall"]["entities"]
                      - 2 * gold["overall"]["correct"])


@st.composite
def span_pairs(draw):
    """Gold and predicted non-overlapping spans over one sentence."""
    length = draw(st.integers(0, 10))

    def span_set():
        cuts = sorted(draw(st.sets(st.integers(0, length), max_size=length + 1)))
        return [(a, b, draw(TYPES)) for a, b in itertools.pairwise(cuts) if draw(st.booleans())]

    return span_set(), span_set(), length


@given(span_pairs())
def test_every_scheme_gives_the_same_categories(case):
    gold, predicted, length = case
    expected = classify(gold, predicted)
    for scheme in ("iob1", "iob2", "bioes"):
        gold_tags = tags_from_spans(gold, length, scheme)
        predicted_tags = tags_from_spans(predicted, length, scheme)
        assert classify(spans(gold_tags, scheme), spans(predicted_tags, scheme)) == expected
