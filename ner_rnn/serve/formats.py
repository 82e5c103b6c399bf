"""Writing tagging results as JSON lines, CoNLL columns or inline brackets."""

from __future__ import annotations

import json

FORMATS = ("json", "conll", "inline")


def format_result(result: dict, kind: str) -> str:
    """One tagging result (see `Tagger.tag`) as text ending in a newline."""
    if kind == "json":
        return json.dumps(result, ensure_ascii=False) + "\n"
    if kind == "conll":
        rows = "".join(f"{t}\t{g}\n" for t, g in zip(result["tokens"], result["tags"]))
        return rows + "\n"
    if kind == "inline":
        return inline(result) + "\n"
    raise ValueError(f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")


def inline(result: dict) -> str:
    """`[Apple ORG] is a great company !`: entities bracketed with their type."""
    words = list(result["tokens"])
    for entity in reversed(result["entities"]):
        start, end = entity["start"], entity["end"]
        words[start:end] = ["[" + " ".join(words[start:end]) + " " + entity["type"] + "]"]
    return " ".join(words)
