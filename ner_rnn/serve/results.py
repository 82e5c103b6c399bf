"""Tagging results as plain data: tokens, tags in the requested scheme, and entities
with token indices and character offsets into the input line."""

from __future__ import annotations

from ner_rnn.data.schemes import spans, tags_from_spans

Token = tuple[str, int, int]  # text, start and end character offsets (end exclusive)


def result(text: str, line: list[Token], model_tags: list[str], model_scheme: str,
           scheme: str, confidence: dict | None = None) -> dict:
    """One tagging result: `{"tokens", "tags", "entities"}` (see `Tagger.tag`), tags
    written in `scheme`; `confidence` maps entity spans to their probability."""
    entity_spans = spans(model_tags, model_scheme)
    entities = []
    for span in entity_spans:
        start, end, type_ = span
        char_start, char_end = line[start][1], line[end - 1][2]
        entity = {"text": text[char_start:char_end], "type": type_, "start": start,
                  "end": end, "char_start": char_start, "char_end": char_end}
        if confidence is not None:
            entity["confidence"] = confidence[span]
        entities.append(entity)
    return {"tokens": [token for token, _, _ in line],
            "tags": tags_from_spans(entity_spans, len(model_tags), scheme),
            "entities": entities}
