"""`ner-rnn report` and `ner-rnn tag --format html` on a tiny trained model, in Chromium."""

import json
import re
import shutil

import pytest

from ner_rnn.cli import main
from ner_rnn.report.taxonomy import GOLD_CATEGORIES, PREDICTED_CATEGORIES
from ner_rnn.serve.formats import footer, format_result, header
from ner_rnn.serve.markup import type_colours
from ner_rnn.serve.streaming import entity_types
from ner_rnn.serve.tagger import Tagger
from tests.browser import needs_chromium, rendered_dom, screenshot_colours
from tests.conftest import ROOT, SAMPLE

HOSTILE = "<script>alert(1)</script>"
HOSTILE_TYPE = '<u>X"</u>'  # a type the model learns: its name must be escaped everywhere
# would set an attribute on <body> if it were ever parsed as HTML and its handler ran
INJECTION = "<img/src=x/onerror=document.body.setAttribute('data-pwned',1)>"
LINES = ["Maria Lopez flew from Paris to Tokyo .", f"{HOSTILE} Paris", "",
         "The Apple is a great company !"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small model trained for 3 epochs on the sample corpus plus sentences of a
    hostile type, and a file to analyse whose name and text are hostile too."""
    directory = tmp_path_factory.mktemp("report")
    hostile = f"{HOSTILE} B-{HOSTILE_TYPE}\nsaid O\nhello O\n\n" * 5
    train = directory / "train.conll"
    train.write_text((SAMPLE / "train.conll").read_text() + "\n" + hostile, encoding="utf-8")
    data = directory / '<u>"test"&.conll'
    data.write_text((SAMPLE / "test.conll").read_text() + "\n" + hostile
                    + f"{INJECTION} B-UNSEEN\nParis B-LOC\n", encoding="utf-8")
    model = directory / "model"
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(model), "--set", "train.epochs=3",
                 "--set", "model.encoder.hidden_size=32", "--set", "model.embeddings.word.dim=32",
                 "--set", "model.embeddings.char.filters=16", "--set", "train.batch_size=16",
                 "--set", "train.lr=0.01",
                 "--set", f"data.train={train}", "--set", f"data.dev={SAMPLE / 'dev.conll'}",
                 "--set", "data.test=null"]) == 0
    return model, data


def report_json(capsys, model, data, *flags):
    assert main(["report", "--model", str(model), "--data", str(data), "--format", "json",
                 *flags]) == 0
    return json.loads(capsys.readouterr().out)


def test_report_numbers_are_evaluates_and_add_up(files, capsys):
    model, data = files
    report = report_json(capsys, model, data, "--examples", "4")
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--format", "json"]) == 0
    assert report["scores"] == json.loads(capsys.readouterr().out)
    training = report["training"]
    assert training["epochs"] == [1, 2, 3] and len(training["loss"]) == 3
    assert training["best_epoch"] in (1, 2, 3) and training["dev"] is not None
    assert report["run"]["encoder"]["type"] == "lstm" and report["run"]["head"]["type"] == "softmax"
    gold, predicted = report["errors"]["gold"]["overall"], report["errors"]["predicted"]["overall"]
    assert sum(gold[c] for c in GOLD_CATEGORIES) == gold["entities"] == \
        report["scores"]["overall"]["support"]
    assert sum(predicted[c] for c in PREDICTED_CATEGORIES) == predicted["entities"] == \
        report["scores"]["overall"]["predicted"]
    assert gold["correct"] == report["scores"]["overall"]["correct"]
    unseen = report["errors"]["gold"]["per_type"]["UNSEEN"]  # never learnt: never right
    assert unseen["entities"] == 1 and unseen["correct"] == 0
    assert len(report["examples"]) == 4 <= report["sentences_with_errors"]
    errors = [e["errors"] for e in report["examples"]]
    assert errors == sorted(errors, reverse=True)


def test_report_writes_report_html_atomically(files, tmp_path, monkeypatch, capsys):
    model, data = files
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--model", str(model), "--data", str(data)]) == 0
    assert main(["report", "--model", str(model), "--data", str(data), "--format", "json",
                 "--output", "r.json"]) == 0
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "report.html"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert json.loads((tmp_path / "r.json").read_text())["scores"]["tokens"] > 0


def test_report_user_errors_are_one_line(files, tmp_path, write, capsys):
    model, data = files
    broken = tmp_path / "broken"
    shutil.copytree(model, broken)
    with open(broken / "metrics.jsonl", "a") as log:
        log.write("{oops\n")
    lines = len((broken / "metrics.jsonl").read_text().splitlines())
    bad_data = write("bad.conll", "Paris B-LOC\nis B_X\n")
    output = tmp_path / "out.html"
    for args, message in [
        (["--model", str(model), "--data", str(data), "--examples", "-1"],
         "error: --examples: expected a number >= 0, got -1"),
        (["--model", str(tmp_path / "nothing"), "--data", str(data)],
         f"error: {tmp_path / 'nothing'}: no such model directory"),
        (["--model", str(model), "--data", str(bad_data)], f"error: {bad_data}:2: "),
        (["--model", str(broken), "--data", str(data)],
         f"error: {broken / 'metrics.jsonl'}:{lines}: expected a JSON object"),
    ]:
        assert main(["report", *args, "--output", str(output)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(message) and "\n" not in err
        assert not output.exists()


def test_tag_html_streams_one_page_to_stdout_or_a_file(files, tmp_path, capsys):
    model, _ = files
    args = ["tag", "--model", str(model), "--format", "html", "--chunk-size", "1",
            "--confidence", *LINES]
    assert main(args) == 0
    page = capsys.readouterr().out
    assert main([*args, "--output", str(tmp_path / "tagged.html")]) == 0
    assert (tmp_path / "tagged.html").read_text(encoding="utf-8") == page
    assert page.count("<!DOCTYPE html>") == page.count("</html>") == 1
    assert page.count("<li>") == len(LINES)
    entities = sum(len(r["entities"]) for r in Tagger.load(model).tag(LINES))
    assert page.count("<mark") == entities > 0
    assert page.count("confidence 0.") == entities and "<script" not in page


def curve_lengths(dom):
    """Number of points of each chart's curve, from its path's d attribute."""
    return [len(re.findall(r"[ML][-\d.]+,[-\d.]+", path["d"]))
            for path in dom.find("path", **{"class": "curve"})]


def no_injection(dom):
    assert not dom.tags() & {"script", "img", "u"}
    assert all("data-pwned" not in attrs for _, attrs, _ in dom.elements)


@needs_chromium
def test_report_page_in_chromium(files, tmp_path, capsys):
    model, data = files
    page = tmp_path / "report.html"
    assert main(["report", "--model", str(model), "--data", str(data), "--output", str(page),
                 "--examples", "1000"]) == 0
    report = report_json(capsys, model, data, "--examples", "1000")
    dom = rendered_dom(page, tmp_path / "profile")
    no_injection(dom)
    assert len(dom.find("svg", **{"class": "chart"})) == 3
    assert curve_lengths(dom) == [3, 3, 3]  # loss, dev F1, learning rate: one point per epoch
    assert len(dom.find("line", **{"class": "best"})) == 3
    rows = dom.find("tr", inside=("table", "scores"))
    assert len(rows) == len(report["scores"]["per_type"]) + 2  # a head and an overall row
    marks = sum(len(e["gold"]) + len(e["predicted"]) for e in report["examples"])
    assert len(dom.find("mark")) == marks
    assert {m["data-type"] for m in dom.find("mark")} >= {HOSTILE_TYPE, "UNSEEN"}
    text = "".join(dom.text)
    assert HOSTILE in text and INJECTION in text and str(data) in text
    colours = screenshot_colours(page, tmp_path / "profile2")
    assert len(colours) > 50  # text, charts, tables: far from blank
    palette = type_colours(report["types"])
    shown = {bytes.fromhex(palette[t][1:]) for t in ("LOC", "PER")}
    assert shown <= colours  # the bars of the score table in their types' colours


@needs_chromium
def test_tag_page_in_chromium(files, tmp_path):
    model, _ = files
    page = tmp_path / "tagged.html"
    assert main(["tag", "--model", str(model), "--format", "html", "--pretokenized",
                 "--confidence", "--output", str(page), *LINES]) == 0
    tagger = Tagger.load(model)
    results = tagger.tag(LINES, pretokenized=True, confidence=True)
    dom = rendered_dom(page, tmp_path / "profile")
    no_injection(dom)
    assert len(dom.find("li", inside=("ol", "lines"))) == len(LINES)
    marks = dom.find("mark")
    assert [(m["data-type"], m["title"].split(",")[0]) for m in marks] == [
        (e["type"], e["type"]) for r in results for e in r["entities"]]
    assert all(re.fullmatch(r".+, confidence [01]\.\d{3}", m["title"]) for m in marks)
    assert HOSTILE in "".join(dom.text)
    # the same renderer on results made by hand: hostile text inside and outside marks
    crafted = tmp_path / "crafted.html"
    entity = {"text": HOSTILE, "type": HOSTILE_TYPE, "start": 1, "end": 2, "char_start": 0,
              "char_end": 0, "confidence": 0.5}
    result = {"tokens": [INJECTION, HOSTILE, HOSTILE], "tags": [], "entities": [entity]}
    crafted.write_text(header("html", [HOSTILE_TYPE]) + format_result(result, "html")
                       + footer("html"), encoding="utf-8")
    dom = rendered_dom(crafted, tmp_path / "profile3")
    no_injection(dom)
    assert [m["data-type"] for m in dom.find("mark")] == [HOSTILE_TYPE]
    assert "".join(dom.text).count(HOSTILE) == 2 and INJECTION in "".join(dom.text)
    colours = screenshot_colours(page, tmp_path / "profile2", "800,500")
    assert len(colours) > 20
    palette = type_colours(entity_types(tagger))
    assert {bytes.fromhex(palette[m["data-type"]][1:]) for m in marks} <= colours
