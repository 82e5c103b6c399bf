"""Report pieces without a model: the training log, the SVG charts, escaping and the pages."""

import json
import math
import re

import pytest

from ner_rnn.data.conll import Sentence
from ner_rnn.errors import ModelError
from ner_rnn.report.analysis import analyse
from ner_rnn.report.charts import line_chart, nice_ticks, whole_ticks
from ner_rnn.report.page import render
from ner_rnn.report.training_log import read_training_log
from ner_rnn.serve.formats import footer, format_result, header
from ner_rnn.serve.markup import PALETTE, css_string, marked_tokens, type_colours

HOSTILE = '<script>alert(1)</script>'


def epoch(number, loss, f1=None, lr=0.01):
    record = {"epoch": number, "loss": loss, "grad_norm_mean": 1.0, "grad_norm_max": 2.0,
              "lr": lr, "seconds": 0.1, "sentences_per_s": 100.0}
    if f1 is not None:
        record["dev"] = {"precision": f1, "recall": f1, "f1": f1, "token_accuracy": 0.9}
    return json.dumps(record)


def curve_points(svg):
    """The (x, y) points of the chart's curve, from its path's d attribute."""
    d = re.search(r'<path class="curve" d="([^"]*)"', svg).group(1)
    return [tuple(map(float, pair.split(","))) for pair in re.findall(r"[ML]([-\d.]+,[-\d.]+)", d)]


def test_training_log_gives_curves_best_epoch_and_final_scores(write):
    final = {"final": True, "best_epoch": 2, "dev": {"precision": 0.5, "recall": 0.5,
                                                     "f1": 0.5, "token_accuracy": 0.9},
             "test": {"precision": 0.4, "recall": 0.4, "f1": 0.4, "token_accuracy": 0.8}}
    path = write("metrics.jsonl", "\n".join(
        [epoch(1, 2.0, 0.3, 0.01), epoch(2, 1.0, 0.5, 0.005), epoch(3, 0.5, 0.4, 0.0025),
         json.dumps(final)]) + "\n")
    log = read_training_log(path)
    assert log["epochs"] == [1, 2, 3] and log["loss"] == [2.0, 1.0, 0.5]
    assert log["dev_f1"] == [0.3, 0.5, 0.4] and log["lr"] == [0.01, 0.005, 0.0025]
    assert log["best_epoch"] == 2
    assert log["dev"]["f1"] == 0.5 and log["test"]["token_accuracy"] == 0.8


def test_training_log_without_a_summary_or_without_epochs(write, tmp_path):
    interrupted = write("a.jsonl", "\n".join([epoch(1, 2.0, 0.6), epoch(2, 1.0, 0.4),
                                              epoch(3, 0.5, 0.6)]))
    assert read_training_log(interrupted)["best_epoch"] == 1  # the first highest dev F1
    no_dev = write("b.jsonl", "\n".join([epoch(1, 2.0), epoch(2, 1.0)]))
    log = read_training_log(no_dev)
    assert log["best_epoch"] == 2 and log["dev_f1"] == [None, None]
    for empty in (tmp_path / "missing.jsonl", write("c.jsonl", "")):
        log = read_training_log(empty)
        assert log["epochs"] == [] and log["best_epoch"] is None and log["dev"] is None


def test_training_log_turns_values_that_are_not_finite_into_gaps(write):
    path = write("m.jsonl", epoch(1, 1.0) + "\n" + epoch(2, float("nan")) + "\n")
    assert read_training_log(path)["loss"] == [1.0, None]


@pytest.mark.parametrize("lines, message", [
    (["{not json"], r"m\.jsonl:2: expected a JSON object"),
    (["[1, 2]"], r"m\.jsonl:2: expected a JSON object"),
    (['{"loss": 1.0}'], r'm\.jsonl:2: expected "epoch": a whole number'),
    (['{"epoch": 1e9999}'], r'm\.jsonl:2: expected "epoch"'),
    (['{"epoch": 2, "loss": "low"}'], r'm\.jsonl:2: "loss": expected a number, got \'"low"\''),
    (['{"epoch": 2, "dev": 0.5}'], r'm\.jsonl:2: "dev": expected an object of scores'),
    (['{"epoch": 1, "loss": 1.0}'], r"m\.jsonl:2: epoch 1 after epoch 1; expected increasing"),
])
def test_a_malformed_training_log_names_file_and_line(write, lines, message):
    path = write("m.jsonl", "\n".join([epoch(1, 1.0), *lines]))
    with pytest.raises(ModelError, match=message):
        read_training_log(path)


def test_chart_has_one_point_per_epoch_and_marks_the_best():
    svg = line_chart("Dev F1", "F1", [1, 2, 3, 4], [40.0, 60.0, 55.0, 80.0], marked=4)
    points = curve_points(svg)
    assert len(points) == 4 and svg.count('<circle class="point"') == 4
    xs = [x for x, _ in points]
    assert xs == sorted(xs)
    assert points[3][1] < points[1][1] < points[2][1] < points[0][1]  # higher is further up
    assert 'class="best"' in svg and "best epoch 4" in svg
    assert '<text class="axis-label"' in svg and ">epoch</text>" in svg and ">F1</text>" in svg


def test_chart_gaps_empty_series_and_flat_series():
    gap = line_chart("Loss", "loss", [1, 2, 3], [1.0, None, 0.5])
    d = re.search(r'class="curve" d="([^"]*)"', gap).group(1)
    assert d.count("M") == 2 and "L" not in d  # two pieces, one point each
    empty = line_chart("Dev F1", "F1", [1, 2], [None, None], empty_note="no dev scores")
    assert "no dev scores" in empty and 'class="curve"' not in empty
    assert "no epochs recorded" in line_chart("Loss", "loss", [], [])
    flat = line_chart("Learning rate", "lr", [1, 2, 3], [0.005] * 3, marked=1)
    assert len({y for _, y in curve_points(flat)}) == 1
    single = line_chart("Loss", "loss", [1], [0.7], marked=1)
    assert len(curve_points(single)) == 1 and single.count("<circle") == 1


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (0.0021, 0.0049), (5.0, 5.0),
                                       (-3.5, 120.0), (-1e308, 1e308), (1e-12, 3e-12)])
def test_ticks_cover_the_range_with_round_steps(low, high):
    ticks, step = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 12
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5, 10))


def test_epoch_ticks_are_whole_and_few():
    assert whole_ticks(1, 4) == [1, 2, 3, 4]
    assert whole_ticks(1, 1) == [0, 1, 2]
    ticks = whole_ticks(1, 137)
    assert len(ticks) <= 11 and ticks[-1] >= 137 and all(isinstance(t, int) for t in ticks)


def test_css_strings_cannot_break_out_of_the_style_element():
    quoted = css_string('X"]</style><script>alert(1)</script>{')
    assert quoted.startswith('"') and quoted.endswith('"')
    assert not set(quoted[1:-1]) & set('"<>{}]')


def test_each_type_keeps_its_colour_whatever_order_types_come_in():
    colours = type_colours(["PER", "LOC", "ORG", "MISC"])
    assert colours == type_colours(["MISC", "ORG", "LOC", "PER", "PER"])
    assert colours["LOC"] == PALETTE[0] and len(set(colours.values())) == 4
    many = type_colours([f"T{i:02d}" for i in range(30)])
    assert len(set(many.values())) == 30


def test_marked_tokens_escape_every_token_and_type():
    text = marked_tokens([HOSTILE, "Paris", "&"], [(1, 2, '<b>"LOC"</b>', "t'itle", None)])
    assert "<script" not in text and "<b>" not in text
    assert text.startswith("&lt;script&gt;alert(1)&lt;/script&gt; <mark ")
    assert 'data-type="&lt;b&gt;&quot;LOC&quot;&lt;/b&gt;"' in text
    assert 'title="t&#x27;itle"' in text and text.endswith("</mark> &amp;")


def hostile_report():
    """A report dict like build_report's, with hostile text in every string it shows."""
    type_ = '<u>"T"</u>'
    sentences = [Sentence([HOSTILE, "Paris"], [f"B-{type_}", "B-LOC"], line=3)]
    analysis = analyse(sentences, [["O", f"B-{type_}"]], "iob2")
    scores = {"overall": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2,
                          "predicted": 1, "correct": 0},
              "per_type": {t: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1,
                               "predicted": p, "correct": 0} for t, p in ((type_, 1), ("LOC", 0))},
              "token_accuracy": 0.0, "tokens": 2}
    run = {"encoder": {"type": "lstm", "hidden_size": 8, "num_layers": 1, "bidirectional": True,
                       "implementation": "torch"},
           "head": {"type": "crf", "constrain": True},
           "features": {"word_dim": 8, "char": None, "casing_dim": None, "pretrained": HOSTILE},
           "document_context": None, "scheme": {"data": "iob2", "model": "bioes"},
           "data": {"train": HOSTILE + ".conll", "dev": None, "test": None}}
    training = {"epochs": [1, 2], "loss": [1.0, 0.5], "dev_f1": [0.1, 0.2], "lr": [0.1, 0.1],
                "best_epoch": 2, "dev": None, "test": None}
    return {"model": f"models/{HOSTILE}", "data": f"{HOSTILE}&.conll", "scheme": "iob2",
            "types": sorted([type_, "LOC"]), "run": run, "training": training,
            "scores": scores, **analysis}


def test_report_page_escapes_tokens_types_and_file_names():
    page = render(hostile_report())
    assert "<script" not in page and "<u>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5  # model, data, files, token
    style = page[page.index("<style>"):page.index("</style>")]
    assert "<" not in style[len("<style>"):]
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_tag_page_is_a_header_one_item_per_result_and_a_footer():
    results = [{"tokens": [HOSTILE, "Paris"], "tags": ["O", "B-LOC"],
                "entities": [{"text": "Paris", "type": "LOC", "start": 1, "end": 2,
                              "char_start": 26, "char_end": 31, "confidence": 0.9731}]},
               {"tokens": [], "tags": [], "entities": []}]
    page = (header("html", ["LOC", "PER"]) + "".join(format_result(r, "html") for r in results)
            + footer("html"))
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert page.count("<li>") == 2 and page.count("<mark") == 1
    assert 'title="LOC, confidence 0.973"' in page and "<script" not in page
    for kind in ("json", "conll", "inline"):
        assert header(kind, ["LOC"]) == footer(kind) == ""


def test_report_page_of_a_run_without_epochs_draws_empty_charts():
    report = hostile_report()
    report["training"] = {"epochs": [], "loss": [], "dev_f1": [], "lr": [], "best_epoch": None,
                          "dev": None, "test": None}
    page = render(report)
    assert page.count("no epochs recorded") == 3 and 'class="curve"' not in page
    assert "No epochs in the model" in page
