"""`ner-rnn tag --format html`: tagged lines as one self-contained page.

The page is written in three parts so that it can be streamed chunk by chunk like the
other formats: `page_start` once, `result_html` for each tagging result (one numbered
line as it was written, its entities as coloured marks with their type; with
`--confidence` the mark's tooltip gives the probability), `page_end` once.
"""

from __future__ import annotations

from collections.abc import Iterable

from ner_rnn.serve.markup import PAGE_END, escape, legend, marked_text, marked_tokens
from ner_rnn.serve.markup import page_start as markup_page_start

CSS = """
ol.lines{padding-left:3.5em}ol.lines li{margin:.15em 0;padding-left:.3em}
ol.lines li::marker{color:#999;font-size:.85em}
"""


def page_start(types: Iterable[str], title: str = "ner-rnn tag") -> str:
    """Head of the page, a legend of `types` (the model's entity types) and the list's start."""
    return (markup_page_start(title, types, CSS) + f"<h1>{escape(title)}</h1>\n"
            + legend(types) + '<ol class="lines">\n')


def result_html(result: dict, text: str | None = None) -> str:
    """One result of `Tagger.tag` as a list item: `text`, the line it was tagged from, as
    written, with each entity marked by its character offsets; without `text`, the
    result's tokens joined by spaces."""
    if text is None:
        entities = [(e["start"], e["end"], e["type"], _tooltip(e), None)
                    for e in result["entities"]]
        return f"<li>{marked_tokens(result['tokens'], entities)}</li>\n"
    entities = [(e["char_start"], e["char_end"], e["type"], _tooltip(e), None)
                for e in result["entities"]]
    return f"<li>{marked_text(text, entities)}</li>\n"


def page_end() -> str:
    return "</ol>\n" + PAGE_END


def _tooltip(entity: dict) -> str:
    if "confidence" in entity:
        return f"{entity['type']}, confidence {entity['confidence']:.3f}"
    return entity["type"]
