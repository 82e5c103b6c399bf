"""Corpora of raw texts with character-offset entities, as annotation tools export them.

JSON lines, one object a line, each a document of one sequence (a text of several
sentences stays one sequence):

    {"text": "Apple is in Cupertino .", "entities": [[0, 5, "ORG"], [12, 21, "LOC"]]}

Doccano's `"label"` key holds the same triples; spaCy / Prodigy's `"spans"` holds
`{"start", "end", "label"}` objects (Doccano's `start_offset`/`end_offset` also read).
Label Studio exports a JSON array of tasks, `{"data": {"text"}, "annotations":
[{"result": [{"value": {"start", "end", "labels": [L]}}]}]}`; the first annotation not
cancelled is read, and a task with none is skipped (and counted); an array of objects of
the JSON-lines shape (Doccano's JSON export) is read too. Texts are tokenised
by `tag`'s tokeniser, unless a record gives its `"tokens"` as `[start, end]` pairs (as
`convert` writes where that tokeniser would split the CoNLL tokens otherwise; Prodigy's
token objects are not used: a model learns the tokens `tag` will give it). Tags come
out in IOB2. Lines are read as `text.decoded_lines` reads them: strict UTF-8, at most
`MAX_LINE_BYTES` each.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ner_rnn.data.char_spans import AlignCounts, Aligner, CharSpan, Token, Units
from ner_rnn.data.conll import Sentence
from ner_rnn.data.schemes import spans, tags_from_spans
from ner_rnn.data.tokenize import tokenize
from ner_rnn.errors import DataFormatError, excerpt

ENTITY_KEYS = ("entities", "label", "spans")  # ours, Doccano's, spaCy's / Prodigy's
_LABEL = re.compile(r"\S+")


class SpanReader:
    """Reads records into Sentences by one set of policies, counting what it moved."""

    def __init__(self, misaligned: str = "error", overlapping: str = "error",
                 offsets: str = "codepoints"):
        self.aligner = Aligner(misaligned, overlapping)
        self.utf16 = offsets == "utf16"
        self.unannotated = 0  # Label Studio tasks skipped: no annotation to read

    @property
    def counts(self) -> AlignCounts:
        return self.aligner.counts

    def jsonl(self, lines: Iterable[str], name: str) -> Iterator[Sentence]:
        """The sentences of JSON lines; a blank line is skipped."""
        for number, line in enumerate(lines, start=1):
            if line.strip():
                where = f"{name}:{number}"
                record = _decode(line, where)
                text, entities, tokens = _fields(record, where)
                sentence = self.sentence(where, number, text, entities, tokens, number - 1)
                if sentence is not None:
                    yield sentence

    def labelstudio(self, lines: Iterable[str], name: str) -> Iterator[Sentence]:
        """The sentences of a Label Studio JSON export (an array of tasks)."""
        document = "\n".join(lines)
        line_starts = [0] + [m.end() for m in re.finditer("\n", document)]

        def where(position: int) -> str:
            return f"{name}:{bisect.bisect_right(line_starts, position)}"

        for number, (position, task) in enumerate(_array_items(document, where)):
            line = bisect.bisect_right(line_starts, position)
            place = f"{name}:{line} (task {number + 1})"
            if isinstance(task, dict) and "data" not in task and "text" in task:
                found = _fields(task, place)  # Doccano's JSON export: records in an array
            else:
                found = _task_fields(task, place)
            if found is None:
                self.unannotated += 1
                continue
            sentence = self.sentence(place, line, *found, number)
            if sentence is not None:
                yield sentence

    def sentence(self, where: str, line: int, text: str, entities: list[tuple],
                 tokens: list | None, document: int) -> Sentence | None:
        """One record as a Sentence of IOB2 tags; None for a text without tokens."""
        units = Units(text, self.utf16)
        points = [_to_points(where, units, entity) for entity in entities]
        found = tokenize(text) if tokens is None else _given_tokens(where, units, tokens)
        if not found:
            if points:  # every offset is in range, so the text is only whitespace
                self.aligner.token_spans(where, units, found, points)
            return None
        token_spans = self.aligner.token_spans(where, units, found, points)
        tags = tags_from_spans(token_spans, len(found), "iob2")
        return Sentence([token for token, _, _ in found], tags, line, document)


def record_text(line: str, where: str) -> str:
    """The `"text"` of one JSON line of any shape read here (its entities unread)."""
    record = _decode(line, where)
    if not isinstance(record, dict):
        raise DataFormatError(f'{where}: expected a JSON object {{"text": ...}}, got '
                              f"{excerpt(record)}")
    return _text(record, where)


def _decode(text: str, where: str) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise DataFormatError(f"{where}: invalid JSON ({error.msg}, column "
                              f"{error.colno})") from None
    except ValueError as error:  # NaN, or an integer of thousands of digits
        raise DataFormatError(f"{where}: invalid JSON ({error})") from None
    except RecursionError:
        raise DataFormatError(f"{where}: JSON nested too deeply") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # NaN and Infinity refused


def _array_items(text: str, where) -> Iterator[tuple[int, Any]]:
    """Each element of the JSON array `text` with the position it starts at."""
    space = re.compile(r"\s*")
    position = space.match(text).end()
    if not text.startswith("[", position):
        raise DataFormatError(f"{where(position)}: expected a JSON array of Label Studio "
                              "tasks ([{\"data\": {\"text\": ...}, \"annotations\": ...}])")
    position = space.match(text, position + 1).end()
    while not text.startswith("]", position):
        try:
            item, end = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{where(error.pos)}: invalid JSON ({error.msg})") from None
        except ValueError as error:
            raise DataFormatError(f"{where(position)}: invalid JSON ({error})") from None
        except RecursionError:
            raise DataFormatError(f"{where(position)}: JSON nested too deeply") from None
        yield position, item
        position = space.match(text, end).end()
        if text.startswith(",", position):
            position = space.match(text, position + 1).end()
        elif not text.startswith("]", position):
            raise DataFormatError(f"{where(position)}: invalid JSON (expected ',' or ']' "
                                  "after a task)")
    rest = space.match(text, position + 1).end()
    if rest != len(text):
        raise DataFormatError(f"{where(rest)}: invalid JSON (text after the array)")


def _fields(record: Any, where: str) -> tuple[str, list[tuple], list | None]:
    """(text, entities as (start, end, label) in the file's units, tokens or None)."""
    if not isinstance(record, dict):
        raise DataFormatError(f'{where}: expected a JSON object {{"text": ..., "entities": '
                              f"[...]}}, got {excerpt(record)}")
    text = _text(record, where)
    keys = [key for key in ENTITY_KEYS if key in record]
    if len(keys) != 1:
        found = "none of them" if not keys else " and ".join(f'"{k}"' for k in keys)
        raise DataFormatError(f'{where}: expected one of "entities", "label" or "spans" '
                              f"(an empty list for a text without entities), got {found}")
    items = record[keys[0]]
    if not isinstance(items, list):
        raise DataFormatError(f'{where}: expected "{keys[0]}" to be a list of entities, '
                              f"got {excerpt(items)}")
    tokens = record.get("tokens")
    if isinstance(tokens, list) and tokens and all(isinstance(t, dict) for t in tokens):
        tokens = None  # Prodigy's (spaCy's) tokens: tag's tokeniser is the one to learn
    return text, [_entity(item, where) for item in items], tokens


def _text(container: dict, where: str) -> str:
    if "text" not in container:
        keys = ", ".join(f'"{key}"' for key in list(container)[:10])
        raise DataFormatError(f'{where}: expected a "text" key, got only {keys or "none"}')
    text = container["text"]
    if not isinstance(text, str):
        raise DataFormatError(f'{where}: expected "text" to be a string, got '
                              f"{excerpt(text)}")
    return text


def _task_fields(task: Any, where: str) -> tuple[str, list[tuple], None] | None:
    """A Label Studio task's text and its first live annotation's entities; None when
    it has no annotation that was not cancelled."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise DataFormatError(f'{where}: expected a Label Studio task {{"data": {{"text": '
                              f"...}}, \"annotations\": [...]}}, got {excerpt(task)}")
    text = _text(task["data"], where)
    annotations = task.get("annotations", [])
    if not isinstance(annotations, list):
        raise DataFormatError(f'{where}: expected "annotations" to be a list, got '
                              f"{excerpt(annotations)}")
    live = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    if not live:
        return None
    result = live[0].get("result", [])
    if not isinstance(result, list):
        raise DataFormatError(f'{where}: expected "result" to be a list, got {excerpt(result)}')
    entities = []
    for item in result:  # other controls (choices, relations) carry no "labels"
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, dict) and "labels" in value:
            labels = value["labels"]
            if not (isinstance(labels, list) and len(labels) == 1):
                raise DataFormatError(f'{where}: expected "labels" to hold one label (flat '
                                      f"entities), got {excerpt(labels)}")
            entities.append(_entity({**value, "label": labels[0]}, where))
    return text, entities, None


def _entity(item: Any, where: str) -> tuple:
    """(start, end, label) of `[start, end, "LABEL"]` or `{"start", "end", "label"}`."""
    if isinstance(item, list) and len(item) == 3:
        start, end, label = item
    elif isinstance(item, dict) and "label" in item:
        start = item.get("start", item.get("start_offset"))
        end = item.get("end", item.get("end_offset"))
        label = item["label"]
    else:
        raise DataFormatError(f'{where}: expected an entity [start, end, "LABEL"] or '
                              f'{{"start", "end", "label"}}, got {excerpt(item)}')
    for offset in (start, end):
        if type(offset) is not int:  # bool is an int to Python, but not an offset
            raise DataFormatError(f"{where}: entity {excerpt(item)}: expected integer "
                                  f"offsets, got {excerpt(offset)}")
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise DataFormatError(f"{where}: entity {excerpt(item)}: expected a label string "
                              f"without spaces, got {excerpt(label)}")
    return start, end, label


def _to_points(where: str, units: Units, entity: tuple) -> CharSpan:
    """An entity's offsets checked against the text and turned into code points."""
    start, end, label = entity
    shown = f"[{start}, {end}, {json.dumps(label, ensure_ascii=False)}]"
    if start < 0 or end < 0:
        raise DataFormatError(f"{where}: entity {shown}: offsets must be >= 0")
    if start >= end:
        raise DataFormatError(f"{where}: entity {shown}: start must be less than end")
    if end > units.length:
        raise DataFormatError(f"{where}: entity {shown}: end is past the end of the text "
                              f"({units.length} {units.name})")
    points = units.to_point(start), units.to_point(end)
    if None in points:
        raise DataFormatError(f"{where}: entity {shown}: an offset falls between the two "
                              "UTF-16 units of one character")
    return points[0], points[1], label


def _given_tokens(where: str, units: Units, tokens: Any) -> list[Token]:
    """A record's own tokens, `[[start, end], ...]`: in order, not overlapping, each a
    stretch of text without whitespace."""
    if not isinstance(tokens, list):
        raise DataFormatError(f'{where}: expected "tokens" to be a list of [start, end], '
                              f"got {excerpt(tokens)}")
    found: list[Token] = []
    for item in tokens:
        if not (isinstance(item, list) and len(item) == 2
                and all(type(x) is int for x in item)):
            raise DataFormatError(f"{where}: expected a token [start, end] of integers, got "
                                  f"{excerpt(item)}")
        start, end, _ = _to_points(where, units, (*item, "token"))
        word = units.text[start:end]
        if found and start < found[-1][2] or _LABEL.fullmatch(word) is None:
            raise DataFormatError(f"{where}: token {excerpt(item)}: expected tokens in order, "
                                  f"apart, without spaces, got {excerpt(word)}")
        found.append((word, start, end))
    return found


def jsonl_record(tokens: Sequence[str], tags: Sequence[str], scheme: str,
                 utf16: bool = False) -> dict:
    """A tagged sentence as a JSON-lines record: its tokens joined by single spaces, its
    entities as `[start, end, type]`; `"tokens"` too where `tag`'s tokeniser would split
    the text otherwise, so that reading the record back gives these tokens."""
    text = " ".join(tokens)
    starts = [0]
    for token in tokens:
        starts.append(starts[-1] + len(token) + 1)
    units = Units(text, utf16)
    record: dict = {"text": text, "entities": [
        [units.from_point(starts[a]), units.from_point(starts[b] - 1), type_]
        for a, b, type_ in spans(tags, scheme)]}
    if [word for word, _, _ in tokenize(text)] != list(tokens):
        record["tokens"] = [[units.from_point(s), units.from_point(s + len(t))]
                            for s, t in zip(starts, tokens)]
    return record
