"""Writing tagging results as JSON lines, CoNLL columns, inline brackets or an HTML page
(`jsonl`, the text with its entities as character spans, is written by `results`).

Results are written one at a time, chunk after chunk; a format that wraps them (the
HTML page) also writes a `header` before the first and a `footer` after the last.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ner_rnn.serve import html_page

FORMATS = ("json", "jsonl", "conll", "inline", "html")

# The `tag` options each format writes; given with any other format they are an error,
# never silently dropped.
FORMAT_OPTIONS = {
    "json": ("--nbest", "--confidence"),
    "jsonl": ("--offsets utf16",),
    "conll": (),
    "inline": (),
    "html": ("--confidence",),  # as each mark's tooltip
}


def format_result(result: dict, kind: str, text: str | None = None) -> str:
    """One tagging result (see `Tagger.tag`) as text ending in a newline. `inline` and
    `html` show `text`, the line the result was tagged from, as written (entities marked
    by their character offsets); without it, the result's tokens joined by spaces."""
    if kind == "json":
        return json.dumps(result, ensure_ascii=False) + "\n"
    if kind == "conll":
        rows = "".join(f"{t}\t{g}\n" for t, g in zip(result["tokens"], result["tags"]))
        return rows + "\n"
    if kind == "inline":
        return (inline(result) if text is None else inline_text(result, text)) + "\n"
    if kind == "html":
        return html_page.result_html(result, text)
    if kind == "jsonl":  # a result holds no line text: Results.span_lines writes these
        raise ValueError("format 'jsonl' needs the tagged line's text; use Results.span_lines")
    raise ValueError(f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")


def header(kind: str, types: Iterable[str]) -> str:
    """What `kind` writes before the first result; `types`: the model's entity types."""
    return html_page.page_start(types) if kind == "html" else ""


def footer(kind: str) -> str:
    """What `kind` writes after the last result."""
    return html_page.page_end() if kind == "html" else ""


def inline(result: dict) -> str:
    """`[Apple ORG] is a great company !`: the tokens joined by spaces, entities bracketed
    with their type."""
    words = list(result["tokens"])
    for entity in reversed(result["entities"]):
        start, end = entity["start"], entity["end"]
        words[start:end] = ["[" + " ".join(words[start:end]) + " " + entity["type"] + "]"]
    return " ".join(words)


# the characters str.splitlines breaks at: a text (from JSON lines) may hold them, and an
# inline result is one line
_LINE_BREAKS = dict.fromkeys(map(ord, "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"), " ")


def inline_text(result: dict, text: str) -> str:
    """`The [Apple ORG] is worth $1,000.5 !`: `text` as written (line breaks as spaces),
    each entity bracketed with its type at its character offsets."""
    pieces, position = [], 0
    for entity in result["entities"]:
        start, end = entity["char_start"], entity["char_end"]
        pieces += [text[position:start], "[", text[start:end], " ", entity["type"], "]"]
        position = end
    pieces.append(text[position:])
    return "".join(pieces).translate(_LINE_BREAKS)
