"""Tagging results: tokens, tags in the requested scheme, and entities with token
indices and character offsets into the input line; as dicts (the Python API) or
written straight as JSON lines.

Decoding hands over `Tagged`: every line's tags as arrays of label ids. Spans and
tag conversion are worked out for all lines at once (see `predict.spans`); what remains
per line is slicing strings and joining pieces of JSON escaped beforehand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ner_rnn.data.char_spans import Units
from ner_rnn.predict.paths import Paths
from ner_rnn.predict.spans import Retagger
from ner_rnn.serve.formats import FORMATS, format_result

_escape = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses


@dataclass(frozen=True)
class Tagged:
    """Tagged lines: what decoding hands to formatting (between processes)."""

    texts: list[str]  # the input line of each sentence
    lengths: np.ndarray  # int64 (sentences,) tokens of each sentence
    offsets: np.ndarray  # int (tokens, 2) start and end character of each token in its line
    paths: Paths
    # int (sentences, 2) the characters of its line each sentence covers (inline, html
    # show those); None: one sentence a line, all of it
    windows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def slice(self, start: int, stop: int) -> Tagged:
        """Sentences start..stop-1."""
        first = int(self.lengths[:start].sum())
        tokens = slice(first, first + int(self.lengths[start:stop].sum()))
        return Tagged(self.texts[start:stop], self.lengths[start:stop], self.offsets[tokens],
                      self.paths.slice(slice(start, stop), tokens),
                      None if self.windows is None else self.windows[start:stop])


@dataclass
class _Line:
    """One line's result in pieces: its text, tokens, tag ids (of `TagWriter.tags`) and
    entities as (start, end, type id, char_start, char_end, confidence or None)."""

    text: str
    tokens: list[str]
    tags: list[int]
    entities: list[tuple[int, int, int, int, int, float | None]]


class Results:
    """Turns `Tagged` lines of a model (`labels` of `model_scheme`) into results with tags
    written in `scheme`."""

    def __init__(self, labels: Sequence[str], model_scheme: str, scheme: str):
        retagger = Retagger(labels, model_scheme, scheme)
        self.reader, self.writer = retagger.reader, retagger.writer
        self.json_tags = [_escape(tag) for tag in self.writer.tags]
        self.json_types = [_escape(type_) for type_ in self.reader.types]

    def dicts(self, tagged: Tagged) -> list[dict]:
        """One result per line, as `Tagger.tag` returns them."""
        results = []
        for line, alternatives in self._lines(tagged):
            result = self._dict(line)
            if alternatives is not None:
                result["nbest"] = [{**self._dict(other), "probability": probability}
                                   for other, probability in alternatives]
            results.append(result)
        return results

    def json_lines(self, tagged: Tagged) -> str:
        """The results as JSON lines, byte for byte `json.dumps(result, ensure_ascii=False)`."""
        out = []
        for line, alternatives in self._lines(tagged):
            tokens = "[" + ", ".join(map(_escape, line.tokens)) + "]"
            nbest = ""
            if alternatives is not None:
                nbest = ", ".join(self._json(other, tokens, f', "probability": {_float(p)}')
                                  for other, p in alternatives)
                nbest = f', "nbest": [{nbest}]'
            out.append(self._json(line, tokens, nbest) + "\n")
        return "".join(out)

    def span_lines(self, tagged: Tagged, utf16: bool = False) -> str:
        """The results as annotation tools read them, `{"text", "entities": [[start, end,
        type], ...]}` lines, the offsets counting code points or (`utf16`) UTF-16 units."""
        out = []
        for line, _ in self._lines(tagged):
            units = Units(line.text, utf16)
            entities = [[units.from_point(start), units.from_point(end), self.reader.types[type_]]
                        for _, _, type_, start, end, _ in line.entities]
            out.append(json.dumps({"text": line.text, "entities": entities},
                                  ensure_ascii=False) + "\n")
        return "".join(out)

    def _dict(self, line: _Line) -> dict:
        entities = []
        for start, end, type_, char_start, char_end, confidence in line.entities:
            entity = {"text": line.text[char_start:char_end], "type": self.reader.types[type_],
                      "start": start, "end": end, "char_start": char_start, "char_end": char_end}
            if confidence is not None:
                entity["confidence"] = confidence
            entities.append(entity)
        return {"tokens": line.tokens, "tags": [self.writer.tags[i] for i in line.tags],
                "entities": entities}

    def _json(self, line: _Line, tokens: str, tail: str) -> str:
        """`line` as a JSON object: `tokens` already written, `tail` added at its end."""
        types, text = self.json_types, line.text
        entities = ", ".join(
            f'{{"text": {_escape(text[char_start:char_end])}, "type": {types[type_]}, '
            f'"start": {start}, "end": {end}, "char_start": {char_start}, '
            f'"char_end": {char_end}'
            + ("}" if confidence is None else f', "confidence": {_float(confidence)}}}')
            for start, end, type_, char_start, char_end, confidence in line.entities)
        tags = ", ".join(map(self.json_tags.__getitem__, line.tags))
        return f'{{"tokens": {tokens}, "tags": [{tags}], "entities": [{entities}]{tail}}}'

    def _lines(self, tagged: Tagged) -> Iterator[tuple[_Line, list | None]]:
        """Each line's result, and its alternatives with their probabilities (None
        unless k-best paths were decoded)."""
        found = tagged.paths
        best = self._read(tagged, found.tags, found.log_probability)
        if found.nbest_tags is None:
            yield from ((line, None) for line in best)
            return
        paths = [self._read(tagged, tags) for tags in found.nbest_tags]
        valid, scores = found.nbest_valid.tolist(), found.nbest_scores.tolist()
        for index, (line, log_z) in enumerate(zip(best, found.log_z.tolist())):
            yield line, [(path[index], math.exp(score - log_z))
                         for path, ok, score in zip(paths, valid[index], scores[index]) if ok]

    def _read(self, tagged: Tagged, tags: np.ndarray,
              log_probability: np.ndarray | None = None) -> list[_Line]:
        """The lines of `tagged` read with `tags` (int (tokens,) label ids)."""
        lengths = tagged.lengths
        spans = self.reader.spans(tags, lengths)
        target = self.writer.write(spans, lengths).tolist()
        first = np.cumsum(lengths) - lengths  # (lines,) each line's first token
        begin = first[spans.sentence] + spans.start  # (entities,) first token of each
        last = first[spans.sentence] + spans.end - 1
        confidence = [None] * len(spans)
        if log_probability is not None:
            confidence = [math.exp(x) for x in log_probability[begin].tolist()]
        entities = list(zip(spans.start.tolist(), spans.end.tolist(), spans.type.tolist(),
                            tagged.offsets[begin, 0].tolist(), tagged.offsets[last, 1].tolist(),
                            confidence))
        counts = np.bincount(spans.sentence, minlength=len(lengths)).tolist()
        starts, ends = tagged.offsets[:, 0].tolist(), tagged.offsets[:, 1].tolist()
        lines, token, entity = [], 0, 0
        for text, length, count in zip(tagged.texts, lengths.tolist(), counts):
            stop = token + length
            lines.append(_Line(text, [text[a:b] for a, b in zip(starts[token:stop],
                                                                 ends[token:stop])],
                               target[token:stop], entities[entity:entity + count]))
            token, entity = stop, entity + count
        return lines


@dataclass(frozen=True)
class Formatter:
    """Tagged lines as text in format `kind`, one result after another."""

    results: Results
    kind: str
    utf16: bool = False  # jsonl: offsets in UTF-16 units rather than code points
    # inline, html: show each line as written; False (pre-tokenised input): its tokens
    # joined by spaces
    as_written: bool = True

    def __post_init__(self):
        if self.kind not in FORMATS:
            raise ValueError(f"unknown format {self.kind!r}; expected one of {', '.join(FORMATS)}")

    def __call__(self, tagged: Tagged) -> str:
        if self.kind == "json":  # the common case, written without building dicts
            return self.results.json_lines(tagged)
        if self.kind == "jsonl":
            return self.results.span_lines(tagged, self.utf16)
        results = self.results.dicts(tagged)
        if not self.as_written:
            return "".join(format_result(result, self.kind) for result in results)
        if tagged.windows is not None:  # each sentence of a split line shows its own part
            results, texts = _windowed(results, tagged.texts, tagged.windows.tolist())
        else:
            texts = tagged.texts
        return "".join(format_result(result, self.kind, text)
                       for result, text in zip(results, texts))


def _windowed(results: list[dict], texts: list[str], windows: list[list[int]]
              ) -> tuple[list[dict], list[str]]:
    """Each result with its window of its line as its text, its entities' character
    offsets counted from where the window begins."""
    texts = [text[start:end] for text, (start, end) in zip(texts, windows)]
    results = [{**result, "entities": [{**entity, "char_start": entity["char_start"] - start,
                                        "char_end": entity["char_end"] - start}
                                       for entity in result["entities"]]}
               for result, (start, _) in zip(results, windows)]
    return results, texts


def _float(value: float) -> str:
    """A float as json.dumps writes it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
