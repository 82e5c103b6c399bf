"""Entity-level precision, recall and F1 exactly as conlleval.pl computes them.

An entity counts as correct when its start, end and type all match a gold entity. Spans
follow conlleval's chunk rules (see `data.schemes`); a sentence boundary ends every
entity. Token accuracy counts tokens whose whole predicted tag equals the gold tag.

conlleval.pl does not know BIOES: BIOES tags are scored as the entities they describe
(`S-`/`E-` read as `B-`/`I-`, exact for well-formed BIOES), whether they come from a
model or from a predictions file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ner_rnn.data.conll import ColumnCounts, split_columns
from ner_rnn.data.schemes import is_valid_tag, spans, to_iob2_prefixes
from ner_rnn.data.text import file_lines
from ner_rnn.errors import DataFormatError, excerpt


@dataclass
class Counts:
    """Raw counts from which every score is computed."""

    tokens: int = 0
    correct_tokens: int = 0
    gold: Counter = field(default_factory=Counter)  # gold entities per type
    predicted: Counter = field(default_factory=Counter)  # predicted entities per type
    correct: Counter = field(default_factory=Counter)  # exactly matched entities per type

    def add(self, gold_tags: Sequence[str], predicted_tags: Sequence[str], scheme: str) -> None:
        """Count one sentence. BIOES entities are read after its S-/E- prefixes are mapped
        to B-/I-; token accuracy compares the tags as written."""
        if len(gold_tags) != len(predicted_tags):
            raise ValueError("gold and predicted tags differ in length")
        self.tokens += len(gold_tags)
        self.correct_tokens += sum(g == p for g, p in zip(gold_tags, predicted_tags))
        if scheme == "bioes":
            gold_tags, predicted_tags = to_iob2_prefixes(gold_tags), to_iob2_prefixes(predicted_tags)
        gold_spans, predicted_spans = set(spans(gold_tags, "iob2")), set(spans(predicted_tags, "iob2"))
        self.gold.update(type_ for _, _, type_ in gold_spans)
        self.predicted.update(type_ for _, _, type_ in predicted_spans)
        self.correct.update(type_ for _, _, type_ in gold_spans & predicted_spans)

    def report(self) -> dict:
        """Scores as fractions in [0, 1]: overall, per type, and token accuracy."""
        types = sorted(set(self.gold) | set(self.predicted))
        per_type = {t: _prf(self.correct[t], self.predicted[t], self.gold[t]) for t in types}
        overall = _prf(sum(self.correct.values()), sum(self.predicted.values()),
                       sum(self.gold.values()))
        accuracy = self.correct_tokens / self.tokens if self.tokens else 0.0
        return {"overall": overall, "per_type": per_type, "token_accuracy": accuracy,
                "tokens": self.tokens}


def _prf(correct: int, predicted: int, gold: int) -> dict:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": gold,
            "predicted": predicted, "correct": correct}


def score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]],
          scheme: str = "iob2") -> dict:
    """conlleval scores for parallel lists of sentences' gold and predicted tags."""
    counts = Counts()
    for gold_tags, predicted_tags in zip(gold, predicted, strict=True):
        counts.add(gold_tags, predicted_tags, scheme)
    return counts.report()


def score_predictions_file(path: str | Path) -> dict:
    """Score a file whose last two columns are gold and predicted tags, as conlleval does.

    Like conlleval, every non-blank line is a token (`-DOCSTART-` lines too) and a blank
    line, or a line whose first column is `-X-`, ends a sentence. A file with `E-` or
    `S-` tags is scored as BIOES, as `evaluate --model` scores a BIOES corpus.
    """
    sentences: list[tuple[list[str], list[str]]] = []  # (gold, predicted) per sentence
    gold: list[str] = []
    predicted: list[str] = []
    columns = ColumnCounts()  # checked once the file is read: the odd line is known then
    bad_tag = None  # the first tag error, raised after the column counts are checked
    for number, line in enumerate(file_lines(path), start=1):
        fields = split_columns(line)
        if not fields or fields[0] == "-X-":
            if gold:
                sentences.append((gold, predicted))
                gold, predicted = [], []
            continue
        columns.add(number, line, len(fields))
        if len(fields) < 3:
            continue  # a column count error, raised once the file is read
        for tag in fields[-2:]:
            if not is_valid_tag(tag) and bad_tag is None:
                bad_tag = DataFormatError(f'{path}:{number}: expected a tag "O", "B-X", '
                                          f'"I-X", "E-X" or "S-X", got {excerpt(tag)}: '
                                          f"{excerpt(line.strip())}")
        gold.append(fields[-2])
        predicted.append(fields[-1])
    if columns.lines:
        _check_columns(path, columns)
    if bad_tag is not None:
        raise bad_tag
    if gold:
        sentences.append((gold, predicted))
    if not sentences:
        raise DataFormatError(f"{path}: no tokens found")
    bioes = any(tag[0] in "ES" for pair in sentences for tags in pair for tag in tags)
    counts = Counts()
    for gold, predicted in sentences:
        counts.add(gold, predicted, "bioes" if bioes else "iob2")
    return counts.report()


def _check_columns(path: str | Path, columns: ColumnCounts) -> None:
    """Every line of a predictions file has the file's column count, at least 3."""
    if columns.usual() >= 3:
        columns.check(path, what=" (token ... gold predicted)")
        return
    number, line, width = min((*first, width) for width, first in columns.first.items()
                              if width < 3)
    raise DataFormatError(f"{path}:{number}: expected 3 columns (token ... gold predicted), "
                          f"got {width}: {excerpt(line.strip())}")


def format_report(report: dict) -> str:
    """The report laid out as conlleval.pl prints it."""
    overall = report["overall"]
    lines = [
        (f"processed {report['tokens']} tokens with {overall['support']} phrases; "
        f"found: {overall['predicted']} phrases; correct: {overall['correct']}."),
        (f"accuracy: {100 * report['token_accuracy']:6.2f}%; "
        f"precision: {100 * overall['precision']:6.2f}%; "
        f"recall: {100 * overall['recall']:6.2f}%; FB1: {100 * overall['f1']:6.2f}"),
    ]
    for type_, s in report["per_type"].items():
        lines.append(f"{type_:>17}: precision: {100 * s['precision']:6.2f}%; "
                     f"recall: {100 * s['recall']:6.2f}%; FB1: {100 * s['f1']:6.2f}  "
                     f"{s['predicted']}")
    return "\n".join(lines)
