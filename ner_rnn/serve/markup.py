"""HTML pieces shared by the report page and the tag page: escaping, type colours, marks.

Pages are self-contained: inline CSS, no script, nothing fetched (fonts, images) from
anywhere; a Content-Security-Policy forbids scripts and requests even so. Every text
that comes from input (tokens, entity types, file names) goes through `escape`; a type
used in a CSS selector goes through `css_string`.

Each entity type has one colour, the same on every page for the same set of types:
types are sorted and take the colours of a fixed palette in turn (light colours, so the
dark text on them stays legible); types beyond the palette get evenly spread hues.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

PALETTE = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
           "#fccde5", "#bc80bd", "#ccebc5", "#ffed6f", "#a6cee3")  # ColorBrewer Set3, reordered

# Scripts and every fetch are refused; inline CSS is the only thing the page may use.
CSP = "default-src 'none'; style-src 'unsafe-inline'"

BASE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
 margin:1.5em auto;max-width:75em;padding:0 1em;line-height:1.45}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.6em 0 .5em;
 border-bottom:1px solid #ddd;padding-bottom:.2em}
mark{color:#111;background:#ddd;padding:.1em .35em;border-radius:.35em;line-height:2;
 -webkit-box-decoration-break:clone;box-decoration-break:clone}
mark .type{font-size:.68em;font-weight:700;margin-left:.4em;vertical-align:.1em;opacity:.8}
.swatch{display:inline-block;color:#111;background:#ddd;padding:0 .45em;border-radius:.35em;
 margin-right:.4em;font-size:.9em}
.legend{margin:.5em 0 1em}
"""


def escape(text: object) -> str:
    """`text` as HTML text or attribute value: `& < > " '` become entities."""
    return html.escape(str(text), quote=True)


def css_string(text: str) -> str:
    """`text` as a quoted CSS string: every character but ASCII letters, digits, `-` and
    `_` as a hex escape, so nothing in it can close the string or the style element."""
    return '"' + "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_")
                         else f"\\{ord(ch):x} " for ch in text) + '"'


def type_colours(types: Iterable[str]) -> dict[str, str]:
    """A background colour for each type, assigned in sorted order."""
    ordered = sorted(set(types))
    return {type_: PALETTE[i] if i < len(PALETTE)
            else f"hsl({(i - len(PALETTE)) * 137.508 % 360:.0f},70%,80%)"
            for i, type_ in enumerate(ordered)}


def type_css(types: Iterable[str]) -> str:
    """CSS giving every element with `data-type="T"` the background colour of type T."""
    return "".join(f"[data-type={css_string(type_)}]{{background:{colour}}}\n"
                   for type_, colour in type_colours(types).items())


def page_start(title: str, types: Iterable[str], css: str = "") -> str:
    """The start of a page, up to and including `<body>`."""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n"
            f"<style>{BASE_CSS}{css}{type_css(types)}</style>\n</head>\n<body>\n")


PAGE_END = "</body>\n</html>\n"


def legend(types: Iterable[str]) -> str:
    """A row of coloured swatches, one per type."""
    swatches = "".join(f'<span class="swatch" data-type="{escape(t)}">{escape(t)}</span>'
                       for t in sorted(set(types)))
    return f'<div class="legend">{swatches}</div>\n'


def mark(inner: str, type_: str, title: str | None = None, css_class: str | None = None) -> str:
    """An entity: `inner` (HTML, already escaped) in its type's colour, the type beside it."""
    attributes = f' data-type="{escape(type_)}"'
    if css_class:
        attributes += f' class="{escape(css_class)}"'
    if title:
        attributes += f' title="{escape(title)}"'
    return f'<mark{attributes}>{inner}<span class="type">{escape(type_)}</span></mark>'


Entity = tuple[int, int, str, str | None, str | None]  # start, end, type, title, css class


def marked_tokens(tokens: Sequence[str], entities: Iterable[Entity]) -> str:
    """Tokens joined by spaces, each entity's tokens in one mark.

    `entities` must not overlap (spans from one tag sequence never do).
    """
    pieces, position = [], 0
    for start, end, type_, title, css_class in sorted(entities, key=lambda e: e[0]):
        pieces += [escape(token) for token in tokens[position:start]]
        pieces.append(mark(" ".join(escape(t) for t in tokens[start:end]), type_, title,
                           css_class))
        position = end
    pieces += [escape(token) for token in tokens[position:]]
    return " ".join(pieces)


def marked_text(text: str, entities: Iterable[Entity]) -> str:
    """`text` as it was written, each entity (here start and end are character offsets
    into `text`) in one mark.

    `entities` must not overlap (spans from one tag sequence never do).
    """
    pieces, position = [], 0
    for start, end, type_, title, css_class in sorted(entities, key=lambda e: e[0]):
        pieces += [escape(text[position:start]),
                   mark(escape(text[start:end]), type_, title, css_class)]
        position = end
    pieces.append(escape(text[position:]))
    return "".join(pieces)
