"""How each entity of a sentence went wrong: a taxonomy of span errors.

Every entity is classified once, from its own side, by the best thing it overlaps on the
other side (spans are `(start, end, type)`, end exclusive; two spans overlap when they
share a token):

| category | a gold entity g | a predicted entity p |
|---|---|---|
| correct | a prediction has g's span and type | a gold entity has p's span and type |
| wrong_type | a prediction has g's span, another type | a gold entity has p's span, another type |
| wrong_boundary | no prediction has g's span; one overlapping g has g's type | the same, gold for prediction |
| wrong_boundary_and_type | overlapping predictions, none with g's span or type | the same, gold for prediction |
| missed / spurious | no prediction overlaps g | no gold entity overlaps p |

An entity overlapping several others takes the first category that any of them gives
it, in the order of the table: a gold PER split into a predicted PER and a predicted ORG
is one wrong boundary; each of the two predictions is classified on its own (a wrong
boundary and a wrong boundary and type). So each side's categories partition its
entities, and the sums always hold:

    correct + wrong_type + wrong_boundary + wrong_boundary_and_type + missed = gold entities
    correct + wrong_type + wrong_boundary + wrong_boundary_and_type + spurious = predicted

Within one side spans never overlap (tags are flat), so a span matches at most one span
of the other side exactly: `correct` and `wrong_type` are the same counted from either
side, and `correct` is conlleval's count of correct entities. Boundary errors differ by
side: one gold entity split in two predictions is one gold-side and two predicted-side
wrong boundaries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

Span = tuple[int, int, str]

CORRECT, WRONG_TYPE, WRONG_BOUNDARY, WRONG_BOTH = (
    "correct", "wrong_type", "wrong_boundary", "wrong_boundary_and_type")
MISSED, SPURIOUS = "missed", "spurious"
GOLD_CATEGORIES = (CORRECT, WRONG_TYPE, WRONG_BOUNDARY, WRONG_BOTH, MISSED)
PREDICTED_CATEGORIES = (CORRECT, WRONG_TYPE, WRONG_BOUNDARY, WRONG_BOTH, SPURIOUS)


def overlaps(a: Span, b: Span) -> bool:
    """True when the two spans share at least one token."""
    return a[0] < b[1] and b[0] < a[1]


def classify_span(span: Span, others: Sequence[Span], alone: str) -> str:
    """The category of `span` against the other side's spans; `alone` when none overlaps."""
    start, end, type_ = span
    overlapping = [other for other in others if overlaps(span, other)]
    if not overlapping:
        return alone
    if span in overlapping:
        return CORRECT
    if any(other[:2] == (start, end) for other in overlapping):
        return WRONG_TYPE
    if any(other[2] == type_ for other in overlapping):
        return WRONG_BOUNDARY
    return WRONG_BOTH


def classify(gold: Sequence[Span], predicted: Sequence[Span]) -> tuple[list[str], list[str]]:
    """The category of each gold and each predicted span of one sentence, in order."""
    return ([classify_span(span, predicted, MISSED) for span in gold],
            [classify_span(span, gold, SPURIOUS) for span in predicted])


def confusions(gold: Sequence[Span], predicted: Sequence[Span]
               ) -> list[tuple[str | None, str | None]]:
    """(gold type, predicted type) for every overlapping pair of spans, then (type, None)
    for each missed gold span and (None, type) for each spurious prediction."""
    pairs: list[tuple[str | None, str | None]] = [
        (g[2], p[2]) for g in gold for p in predicted if overlaps(g, p)]
    pairs += [(g[2], None) for g in gold if not any(overlaps(g, p) for p in predicted)]
    pairs += [(None, p[2]) for p in predicted if not any(overlaps(g, p) for g in gold)]
    return pairs


@dataclass
class Tally:
    """Error counts summed over sentences: per type and category on each side, type
    confusions over overlapping spans, and the texts of missed and spurious entities."""

    gold: Counter = field(default_factory=Counter)  # (gold type, category) -> entities
    predicted: Counter = field(default_factory=Counter)  # (predicted type, category) -> entities
    confusion: Counter = field(default_factory=Counter)  # (gold | None, predicted | None) -> n
    missed: Counter = field(default_factory=Counter)  # (text, type) -> times missed
    spurious: Counter = field(default_factory=Counter)  # (text, type) -> times spurious

    def add(self, tokens: Sequence[str], gold: Sequence[Span], predicted: Sequence[Span]
            ) -> tuple[list[str], list[str]]:
        """Count one sentence; returns its categories as `classify` does."""
        gold_categories, predicted_categories = classify(gold, predicted)
        for span, category in zip(gold, gold_categories):
            self.gold[span[2], category] += 1
            if category == MISSED:
                self.missed[" ".join(tokens[span[0]:span[1]]), span[2]] += 1
        for span, category in zip(predicted, predicted_categories):
            self.predicted[span[2], category] += 1
            if category == SPURIOUS:
                self.spurious[" ".join(tokens[span[0]:span[1]]), span[2]] += 1
        self.confusion.update(confusions(gold, predicted))
        return gold_categories, predicted_categories

    def table(self, side: str) -> dict:
        """`{"overall": {...}, "per_type": {type: {...}}}` for side `gold` or `predicted`;
        each row holds `entities` and one count per category of that side."""
        counts = self.gold if side == "gold" else self.predicted
        categories = GOLD_CATEGORIES if side == "gold" else PREDICTED_CATEGORIES

        def row(types: set[str]) -> dict:
            by_category = {c: sum(counts[t, c] for t in types) for c in categories}
            return {"entities": sum(by_category.values()), **by_category}

        types = {type_ for type_, _ in counts}
        return {"overall": row(types), "per_type": {t: row({t}) for t in sorted(types)}}
