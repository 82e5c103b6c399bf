"""Scores checked against conlleval.pl on hand-worked cases and against a line-by-line
port of its counting loop on random tag sequences."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ner_rnn.metrics import format_report, score, score_predictions_file

# token, gold, predicted -- IOB1, worked by hand below
CASE = """\
John I-PER I-PER
Smith I-PER I-PER
visited O O
New I-LOC I-LOC
York I-LOC I-ORG
. O O

He O O
sold O O
Apple I-ORG I-ORG
Microsoft B-ORG I-ORG
shares O O
in O O
Paris I-LOC I-LOC

Berlin I-LOC B-LOC
"""
# Gold: PER John Smith; LOC New York; ORG Apple; ORG Microsoft (adjacent, B- splits them);
# LOC Paris (ends the sentence); LOC Berlin.  Predicted: PER John Smith (correct);
# LOC New + ORG York (a type change inside a chunk splits it: both wrong);
# ORG Apple Microsoft (merged: wrong); LOC Paris (correct); LOC Berlin (correct, although
# its tag B-LOC differs from I-LOC, so the token counts as wrong for accuracy).
CONLLEVAL_OUTPUT = """\
processed 14 tokens with 6 phrases; found: 6 phrases; correct: 3.
accuracy:  78.57%; precision:  50.00%; recall:  50.00%; FB1:  50.00
              LOC: precision:  66.67%; recall:  66.67%; FB1:  66.67  3
              ORG: precision:   0.00%; recall:   0.00%; FB1:   0.00  2
              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1"""


def test_hand_worked_case_matches_conlleval_output(write):
    report = score_predictions_file(write("pred.txt", CASE))
    assert format_report(report) == CONLLEVAL_OUTPUT
    assert report["overall"]["support"] == 6
    assert report["per_type"]["LOC"]["f1"] == pytest.approx(2 / 3)


def test_docstart_lines_count_as_tokens_like_conlleval(write):
    report = score_predictions_file(write("pred.txt", "-DOCSTART- O O\n\n" + CASE))
    assert report["tokens"] == 15
    assert report["token_accuracy"] == pytest.approx(12 / 15)


def test_sentence_boundary_ends_entities():
    # without the boundary, I-LOC I-LOC across sentences would be one entity
    report = score([["I-LOC"], ["I-LOC"]], [["I-LOC"], ["I-LOC"]], "iob1")
    assert report["overall"]["correct"] == 2


def test_bioes_is_scored_by_its_spans():
    report = score([["B-PER", "E-PER", "S-PER"]], [["B-PER", "E-PER", "S-PER"]], "bioes")
    assert report["overall"]["support"] == 2 and report["overall"]["f1"] == 1.0


def test_no_entities_scores_zero_not_nan():
    report = score([["O"]], [["O"]])
    assert report["overall"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0,
                                 "predicted": 0, "correct": 0}
    assert report["token_accuracy"] == 1.0


def test_predictions_file_errors_name_the_line(write):
    from ner_rnn.errors import DataFormatError

    with pytest.raises(DataFormatError, match="p.txt:2: expected 3 columns"):
        score_predictions_file(write("p.txt", "a O O\nb O\n"))
    with pytest.raises(DataFormatError, match="p.txt:1: expected a tag"):
        score_predictions_file(write("p.txt", "a O B_PER\n"))


def _conlleval_port(sentences):
    """conlleval.pl's main loop, transcribed statement by statement."""

    def split(tag):
        return ("O", "") if tag == "O" else (tag[0], tag[2:])

    def end_of_chunk(p, t, pt, tt):
        end = (p, t) in {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"),
                         ("E", "O")}
        return end or (p != "O" and p != "." and pt != tt)

    def start_of_chunk(p, t, pt, tt):
        start = (p, t) in {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"),
                           ("E", "I"), ("O", "E")}
        return start or (t != "O" and t != "." and pt != tt)

    rows = []
    for gold, guess in sentences:
        rows += list(zip(gold, guess)) + [("O", "O")]  # boundary -> O O, not a token
    correct_chunk = found_correct = found_guessed = 0
    in_correct = False
    last_c, last_g, last_ct, last_gt = "O", "O", "", ""
    for gold, guess in rows:
        c, ct = split(gold)
        g, gt = split(guess)
        if in_correct:
            ec, eg = end_of_chunk(last_c, c, last_ct, ct), end_of_chunk(last_g, g, last_gt, gt)
            if ec and eg and last_gt == last_ct:
                in_correct = False
                correct_chunk += 1
            elif ec != eg or gt != ct:
                in_correct = False
        sc, sg = start_of_chunk(last_c, c, last_ct, ct), start_of_chunk(last_g, g, last_gt, gt)
        if sc and sg and gt == ct:
            in_correct = True
        found_correct += sc
        found_guessed += sg
        last_c, last_g, last_ct, last_gt = c, g, ct, gt
    if in_correct:
        correct_chunk += 1
    return correct_chunk, found_guessed, found_correct


TAGS = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-PER", "S-LOC"])


@given(st.lists(st.integers(1, 8).flatmap(
    lambda n: st.tuples(st.lists(TAGS, min_size=n, max_size=n),
                        st.lists(TAGS, min_size=n, max_size=n))), min_size=1, max_size=4))
def test_counts_agree_with_conlleval_loop(sentences):
    overall = score([g for g, _ in sentences], [p for _, p in sentences], "iob1")["overall"]
    assert (overall["correct"], overall["predicted"], overall["support"]) == _conlleval_port(
        sentences)
