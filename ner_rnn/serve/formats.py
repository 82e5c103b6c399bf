"""Writing tagging results as JSON lines, CoNLL columns or inline brackets."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ner_rnn.serve.results import Results, Tagged

FORMATS = ("json", "conll", "inline")


@dataclass(frozen=True)
class Formatter:
    """Tagged lines as text in format `kind`, one result after another."""

    results: Results
    kind: str

    def __post_init__(self):
        if self.kind not in FORMATS:
            raise ValueError(f"unknown format {self.kind!r}; expected one of {', '.join(FORMATS)}")

    def __call__(self, tagged: Tagged) -> str:
        if self.kind == "json":  # the common case, written without building dicts
            return self.results.json_lines(tagged)
        return "".join(format_result(result, self.kind) for result in self.results.dicts(tagged))


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
