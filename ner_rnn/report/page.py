"""The report as one self-contained HTML page (inline CSS and SVG, no script).

`render(report)` draws the dict of `analysis.build_report`: the run, training curves,
scores per type, span errors from both sides, the type confusions, the most frequent
missed and spurious strings, and the sentences with errors.
"""

from __future__ import annotations

from ner_rnn.report.charts import line_chart
from ner_rnn.report.taxonomy import GOLD_CATEGORIES, PREDICTED_CATEGORIES
from ner_rnn.serve.markup import PAGE_END, escape, legend, marked_tokens, page_start

CATEGORY_NAMES = {"correct": "correct", "wrong_type": "wrong type",
                  "wrong_boundary": "wrong boundary",
                  "wrong_boundary_and_type": "wrong boundary and type",
                  "missed": "missed", "spurious": "spurious"}
CATEGORY_COLOURS = {"correct": "#4daf4a", "wrong_type": "#984ea3", "wrong_boundary": "#ff7f00",
                    "wrong_boundary_and_type": "#a65628", "missed": "#e41a1c",
                    "spurious": "#377eb8"}

CSS = """
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}
th,td{padding:.25em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:middle}
th{background:#f4f4f4;font-weight:600}td.num,th.num{text-align:right;
 font-variant-numeric:tabular-nums}
tfoot td{font-weight:600;border-top:2px solid #ccc}
table.run th{background:none;font-weight:600;color:#555;width:11em}
.charts{display:flex;flex-wrap:wrap;gap:1em}
svg.chart{background:#fff;border:1px solid #e4e4e4;border-radius:4px}
svg.chart text{font:11px system-ui,sans-serif;fill:#333}
svg.chart .title{font-size:13px;font-weight:600}svg.chart .axis-label{font-size:12px;fill:#555}
svg.chart .frame{fill:none;stroke:#bbb}svg.chart .grid{stroke:#eee}
svg.chart .tick-mark{stroke:#999}svg.chart .curve{fill:none;stroke:#2b6cb0;stroke-width:2}
svg.chart .point{fill:#2b6cb0}svg.chart .best{stroke:#c53030;stroke-dasharray:4 3}
svg.chart .best-label{fill:#c53030}svg.chart .note{fill:#888;font-size:13px}
.meter{display:inline-block;width:7em;height:.8em;background:#eee;border-radius:2px;
 margin-left:.5em;vertical-align:middle;overflow:hidden}
.meter span{display:block;height:100%}.meter .plain{background:#777}
.stack{display:flex;width:14em;height:.9em;border-radius:2px;overflow:hidden;background:#eee}
.stack span{display:block;height:100%}
.key{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin:0 .3em 0 .8em;
 vertical-align:-.05em}
td.cell{text-align:center;min-width:2.5em}
.pair{display:flex;gap:2em;flex-wrap:wrap}
.example{margin:.4em 0 1em;padding:.4em .8em;border-left:3px solid #ddd}
.example .where{color:#777;font-size:.85em}
.example .side{display:inline-block;width:5.5em;color:#777;font-size:.85em}
mark.error{outline:2px solid #c53030;outline-offset:-1px}
.note{color:#666;font-size:.9em}
"""


def render(report: dict) -> str:
    """The page for a report dict (see `analysis.build_report`)."""
    types = report["types"]
    title = f"ner-rnn report: {report['model']} on {report['data']}"
    heading = (f"<h1>ner-rnn report</h1>\n<p>Model <code>{escape(report['model'])}</code> on "
               f"<code>{escape(report['data'])}</code> ({report['sentences']} sentences, "
               f"{report['scores']['tokens']} tokens).</p>\n")
    sections = [
        heading, _run(report), _curves(report["training"]), _scores(report["scores"]),
        _errors(report["errors"]), _confusion(report["confusion"], types),
        _frequent(report["missed"], report["spurious"]), _examples(report, types),
    ]
    return page_start(title, types, CSS) + "".join(sections) + PAGE_END


def _percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.2f}"


def _scores_line(scores: dict | None) -> str:
    if not scores:
        return "–"
    return (f"precision {_percent(scores.get('precision'))}, recall "
            f"{_percent(scores.get('recall'))}, F1 <b>{_percent(scores.get('f1'))}</b>")


def _run(report: dict) -> str:
    run, training = report["run"], report["training"]
    encoder = run["encoder"]
    layers = encoder["num_layers"]
    encoder_text = (f"{'bidirectional ' if encoder['bidirectional'] else ''}"
                    f"{encoder['type'].upper()}, {layers} layer{'s' if layers > 1 else ''} of "
                    f"{encoder['hidden_size']} units ({encoder['implementation']})")
    head = run["head"]
    head_text = f"{head['type']}{', constrained decoding' if head['constrain'] else ''}"
    features = run["features"]
    feature_text = ", ".join(filter(None, [
        f"words ({features['word_dim']} d)",
        features["pretrained"] and f"pretrained vectors {features['pretrained']}",
        features["char"] and f"characters ({features['char']})",
        features["casing_dim"] and f"casing ({features['casing_dim']} d)"]))
    context = run["document_context"]
    context_text = f"windows of up to {context} tokens" if context else "off (sentences alone)"
    data = run["data"]
    data_text = ", ".join(f"{split}: {data[split]}" for split in ("train", "dev", "test")
                          if data[split]) or "–"
    epochs = training["epochs"]
    best = training["best_epoch"]
    best_text = (f"{best} of {len(epochs)} epochs" if best is not None and epochs
                 else "– (no epochs in metrics.jsonl)")
    rows = [("encoder", encoder_text), ("head", head_text), ("features", feature_text),
            ("document context", context_text),
            ("tag scheme", f"data {run['scheme']['data']}, model {run['scheme']['model']}"),
            ("training data", data_text), ("best epoch", best_text)]
    cells = "".join(f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>\n"
                    for name, value in rows)
    cells += (f"<tr><th>dev (training)</th><td>{_scores_line(training['dev'])}</td></tr>\n"
              f"<tr><th>test (training)</th><td>{_scores_line(training['test'])}</td></tr>\n")
    return f'<h2 id="run">The run</h2>\n<table class="run">\n{cells}</table>\n'


def _curves(training: dict) -> str:
    epochs, best = training["epochs"], training["best_epoch"]
    dev = [None if f1 is None else 100 * f1 for f1 in training["dev_f1"]]
    charts = [line_chart("Training loss", "loss", epochs, training["loss"], best),
              line_chart("Dev F1", "entity F1 (%)", epochs, dev, best,
                         "no dev scores" if epochs else "no epochs recorded"),
              line_chart("Learning rate", "learning rate", epochs, training["lr"], best)]
    note = ('<p class="note">No epochs in the model\'s metrics.jsonl: nothing to draw.</p>\n'
            if not epochs else
            '<p class="note">From the model\'s metrics.jsonl, one point per epoch; the '
            "dashed line marks the best epoch (the weights kept).</p>\n")
    return (f'<h2 id="curves">Training curves</h2>\n{note}'
            f'<div class="charts">{"".join(charts)}</div>\n')


def _meter(fraction: float, type_: str | None) -> str:
    """A small horizontal bar, in the type's colour (grey for the overall row)."""
    fill = f'data-type="{escape(type_)}"' if type_ is not None else 'class="plain"'
    return f'<span class="meter"><span {fill} style="width:{100 * fraction:.1f}%"></span></span>'


def _scores(scores: dict) -> str:
    head = ("<tr><th>type</th><th class=\"num\">precision</th><th class=\"num\">recall</th>"
            "<th class=\"num\">F1</th><th class=\"num\">support</th>"
            "<th class=\"num\">predicted</th><th class=\"num\">correct</th></tr>")

    def row(name: str, s: dict, type_: str | None) -> str:
        label = (f'<span class="swatch" data-type="{escape(type_)}">{escape(type_)}</span>'
                 if type_ is not None else escape(name))
        return (f"<tr><td>{label}</td>"
                + "".join(f'<td class="num">{_percent(s[k])}{_meter(s[k], type_)}</td>'
                          for k in ("precision", "recall", "f1"))
                + f'<td class="num">{s["support"]}</td><td class="num">{s["predicted"]}</td>'
                  f'<td class="num">{s["correct"]}</td></tr>\n')

    body = "".join(row(t, s, t) for t, s in scores["per_type"].items())
    overall = row("overall", scores["overall"], None)
    return ('<h2 id="scores">Scores per type</h2>\n'
            "<p class=\"note\">conlleval's precision, recall and "
            f"F1 (%) on this file, as <code>ner-rnn evaluate</code> prints them; token "
            f"accuracy {_percent(scores['token_accuracy'])}.</p>\n"
            f'<table class="scores"><thead>{head}</thead>\n<tbody>\n{body}</tbody>\n'
            f"<tfoot>{overall}</tfoot></table>\n")


def _error_table(side: str, table: dict, categories: tuple[str, ...]) -> str:
    noun = "gold" if side == "gold" else "predicted"
    head = (f"<tr><th>{noun} type</th><th class=\"num\">{noun}</th>"
            + "".join(f'<th class="num">{CATEGORY_NAMES[c]}</th>' for c in categories)
            + "<th>share</th></tr>")

    def row(label: str, counts: dict) -> str:
        total = counts["entities"]
        stack = "".join(
            f'<span style="width:{100 * counts[c] / total:.2f}%;'
            f'background:{CATEGORY_COLOURS[c]}" title="{CATEGORY_NAMES[c]}"></span>'
            for c in categories if counts[c]) if total else ""
        return (f"<tr><td>{label}</td><td class=\"num\">{total}</td>"
                + "".join(f'<td class="num">{counts[c]}</td>' for c in categories)
                + f'<td><span class="stack">{stack}</span></td></tr>\n')

    body = "".join(row(f'<span class="swatch" data-type="{escape(t)}">{escape(t)}</span>', c)
                   for t, c in table["per_type"].items())
    return (f'<table class="errors {side}"><thead>{head}</thead>\n<tbody>\n{body}</tbody>\n'
            f'<tfoot>{row("all", table["overall"])}</tfoot></table>\n')


def _errors(errors: dict) -> str:
    keys = "".join(f'<span class="key" style="background:{CATEGORY_COLOURS[c]}"></span>'
                   f"{CATEGORY_NAMES[c]}" for c in CATEGORY_NAMES)
    return (
        '<h2 id="errors">Span errors</h2>'
        "\n<p class=\"note\">Every entity is counted once from its own "
        "side, by the best thing it overlaps on the other: the same span and type "
        "(correct), the same span with another type (wrong type), an overlapping span of "
        "its type (wrong boundary), only overlapping spans of other types (wrong boundary "
        "and type), or nothing (missed gold, spurious prediction). A gold entity split into "
        "two predictions is one wrong boundary among the gold entities and two among the "
        f"predictions.</p>\n<p>{keys}</p>\n"
        "<h3>Gold entities</h3>\n" + _error_table("gold", errors["gold"], GOLD_CATEGORIES)
        + "<h3>Predicted entities</h3>\n"
        + _error_table("predicted", errors["predicted"], PREDICTED_CATEGORIES))


def _confusion(confusion: list[dict], types: list[str]) -> str:
    counts = {(c["gold"], c["predicted"]): c["count"] for c in confusion}
    rows = [t for t in types if any(g == t for g, _ in counts)] + [None]
    columns = [t for t in types if any(p == t for _, p in counts)] + [None]
    largest = max(counts.values(), default=1)

    def label(type_: str | None, none: str) -> str:
        return (f'<span class="swatch" data-type="{escape(type_)}">{escape(type_)}</span>'
                if type_ is not None else f"<i>{none}</i>")

    head = ("<tr><th>gold ↓ predicted →</th>"
            + "".join(f"<th>{label(t, 'none (missed)')}</th>" for t in columns) + "</tr>")
    body = ""
    for gold in rows:
        cells = ""
        for guess in columns:
            n = counts.get((gold, guess), 0)
            shade = "49,130,206" if gold == guess else "214,69,65"
            style = f' style="background:rgba({shade},{0.12 + 0.6 * n / largest:.2f})"' if n else ""
            cells += f'<td class="cell"{style}>{n or ""}</td>'
        body += f"<tr><th>{label(gold, 'none (spurious)')}</th>{cells}</tr>\n"
    return ('<h2 id="confusions">Type confusions</h2>'
            "\n<p class=\"note\">Each pair of overlapping gold and "
            "predicted entities counts once (the diagonal holds correct entities and wrong "
            "boundaries); a gold entity no prediction overlaps counts under <i>none</i>, "
            "a prediction no gold entity overlaps in the last row.</p>\n"
            f'<table class="confusion"><thead>{head}</thead>\n<tbody>\n{body}</tbody></table>\n')


def _frequent(missed: list[dict], spurious: list[dict]) -> str:
    def table(title: str, items: list[dict]) -> str:
        rows = "".join(f'<tr><td><span class="swatch" data-type="{escape(i["type"])}">'
                       f'{escape(i["type"])}</span>{escape(i["text"])}</td>'
                       f'<td class="num">{i["count"]}</td></tr>\n' for i in items)
        rows = rows or '<tr><td colspan="2" class="note">none</td></tr>\n'
        return (f"<div><h3>{title}</h3>\n<table class=\"frequent\"><thead><tr><th>entity</th>"
                f'<th class="num">times</th></tr></thead>\n<tbody>\n{rows}</tbody></table></div>')

    return ('<h2 id="frequent">Most frequent missed and spurious entities</h2>'
            "\n<div class=\"pair\">"
            + table("Missed (gold, no overlapping prediction)", missed)
            + table("Spurious (predicted, no overlapping gold)", spurious) + "</div>\n")


def _examples(report: dict, types: list[str]) -> str:
    shown, total = len(report["examples"]), report["sentences_with_errors"]
    intro = (f'<h2 id="examples">Sentences with errors</h2>\n<p class="note">{shown} of '
             f"{total} sentences with errors, most errors first, then in file order. A red "
             "outline marks an entity that is not exactly right; hover over an entity for "
             "its category.</p>\n")
    parts = [intro, legend(types)]
    for example in report["examples"]:
        plural = "s" if example["errors"] > 1 else ""
        parts.append(f'<div class="example"><div class="where">line {example["line"]}, '
                     f'{example["errors"]} error{plural}</div>\n')
        for side in ("gold", "predicted"):
            entities = [(e["start"], e["end"], e["type"],
                         f"{e['type']}: {CATEGORY_NAMES[e['category']]}",
                         None if e["category"] == "correct" else "error")
                        for e in example[side]]
            parts.append(f'<div class="{side}"><span class="side">{side}</span>'
                         f"{marked_tokens(example['tokens'], entities)}</div>\n")
        parts.append("</div>\n")
    return "".join(parts)
