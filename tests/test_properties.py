"""Property-based tests (hypothesis): schemes, spans and tokeniser offsets on random input."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from ner_rnn.data.schemes import conlleval_spans, convert, spans, tags_from_spans
from ner_rnn.data.tokenize import split_whitespace, tokenize

TYPES = st.sampled_from(["PER", "LOC", "ORG"])
ANY_TAG = st.one_of(st.just("O"), st.builds(lambda p, t: f"{p}-{t}", st.sampled_from("BI"),
                                            TYPES))


@st.composite
def span_sets(draw):
    """Non-overlapping spans over a sentence, some of them touching with the same type."""
    length = draw(st.integers(0, 12))
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=length + 1)))
    chosen = []
    for start, end in itertools.pairwise(cuts):
        if draw(st.booleans()):
            chosen.append((start, end, draw(TYPES)))
    return chosen, length


@given(span_sets(), st.sampled_from(["iob1", "iob2", "bioes"]),
       st.sampled_from(["iob1", "iob2", "bioes"]))
def test_every_scheme_round_trips_the_same_spans(case, source, target):
    chosen, length = case
    tags = tags_from_spans(chosen, length, source)
    assert spans(tags, source) == chosen
    converted = convert(tags, source, target)
    assert spans(converted, target) == chosen
    assert convert(converted, target, source) == tags


@given(st.lists(ANY_TAG, max_size=15))
def test_ill_formed_iob_keeps_its_conlleval_spans_through_conversion(tags):
    for target in ("iob1", "iob2", "bioes"):
        assert spans(convert(tags, "iob1", target), target) == conlleval_spans(tags)


def plain_spans(tags):
    """conlleval's reading in words: an entity starts at B-X, or at I-X unless the previous
    tag is B-X or I-X of the same type; it runs while I-X of its type follows."""
    found, start, current = [], None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, type_ = (tag[0], tag[2:]) if tag != "O" else ("O", None)
        continues = prefix == "I" and type_ == current
        if start is not None and not continues:
            found.append((start, i, current))
            start, current = None, None
        if prefix in "BI" and not continues:
            start, current = i, type_
    return found


@given(st.lists(ANY_TAG, max_size=15))
def test_spans_agree_with_a_plain_reading_of_conllevals_rules(tags):
    assert conlleval_spans(tags) == plain_spans(tags)


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@given(TEXT)
def test_tokeniser_offsets_slice_back_to_tokens(text):
    for split, spaces in ((tokenize, None), (split_whitespace, " \t")):
        previous_end = 0
        for token, start, end in split(text):  # pretokenised: CoNLL columns' separators
            assert text[start:end] == token and token.strip(spaces) == token and token
            if spaces:
                assert " " not in token and "\t" not in token
            assert start >= previous_end
            previous_end = end


PIECES = [*"aZé1٣ ,.'-\u0301東nt's()[]\";:!?&_", "Mr", "Inc", "No", "vs", "e", "g", "don",
          "Paris", "1996", " "]


@given(st.text(st.sampled_from(list("aZé1٣ ,.'-\u0301東nt's")), max_size=40) | TEXT
       | st.lists(st.sampled_from(PIECES), max_size=20).map("".join))
def test_tokeniser_fast_path_agrees_with_the_rules(text):
    from ner_rnn.data.tokenize import tokenize_by_rules

    assert tokenize(text) == tokenize_by_rules(text)
