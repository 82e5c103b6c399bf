"""The numbers of a report: the run, its training curves, scores and span errors on a file.

`build_report` loads the model and predicts (the one place here that needs torch);
`analyse` is the error analysis of given gold and predicted tags, in plain Python. The
report is a JSON-ready dict, printed by `ner-rnn report --format json` and drawn by
`report.page`.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from pathlib import Path

from ner_rnn.config import to_dict
from ner_rnn.data.conll import Sentence
from ner_rnn.data.corpus import read_scored_corpus
from ner_rnn.data.schemes import detect_scheme, spans
from ner_rnn.files import path_text
from ner_rnn.report.taxonomy import CORRECT, Tally, classify
from ner_rnn.report.training_log import read_training_log

FREQUENT = 15  # missed and spurious entity strings listed


def build_report(model: str | Path, data: str | Path, examples: int = 50,
                 offsets: str | None = None) -> dict:
    """Load the model in `model`, tag the corpus `data` (CoNLL or JSON spans, `offsets`
    overriding the model's `data.offsets`) and analyse what it did.

    Scores are computed by `Tagger.evaluate` (conlleval's, as `ner-rnn evaluate` prints)
    over spans in the file's own scheme; `examples` sentences with errors are kept.
    """
    from ner_rnn.predict.evaluation import warn_unseen_types  # torch, only to predict
    from ner_rnn.serve.streaming import entity_types
    from ner_rnn.serve.tagger import Tagger

    tagger = Tagger.load(model)
    training = read_training_log(Path(model) / "metrics.jsonl")
    sentences = read_scored_corpus(data, tagger.config.data, offsets)
    warn_unseen_types(data, sentences, tagger.vocabs)
    scheme = detect_scheme([s.tags for s in sentences], str(data), [s.line for s in sentences])
    scores, predicted = tagger.evaluate(sentences, scheme)
    analysis = analyse(sentences, predicted, scheme, examples)
    types = sorted({*entity_types(tagger), *scores["per_type"]})  # the model's and the file's
    return {"model": path_text(model), "data": path_text(data), "scheme": scheme, "types": types,
            "run": run_summary(to_dict(tagger.config)), "training": training,
            "scores": scores, **analysis}


def run_summary(config: dict) -> dict:
    """The main choices of a resolved config (as saved in the model directory)."""
    model, embeddings = config["model"], config["model"]["embeddings"]
    encoder = model["encoder"]
    return {
        "encoder": {key: encoder[key] for key in
                    ("type", "hidden_size", "num_layers", "bidirectional", "implementation")},
        "head": {"type": model["head"]["type"], "constrain": model["head"]["constrain"]},
        "features": {"word_dim": embeddings["word"]["dim"], "char": embeddings["char"]["type"],
                     "casing_dim": embeddings["casing_dim"],
                     "pretrained": embeddings["pretrained"]},
        "document_context": model["document_context"],
        "scheme": {"data": config["data"]["scheme"], "model": model["scheme"]},
        "data": {split: config["data"][split] for split in ("train", "dev", "test")},
    }


def analyse(sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]], scheme: str,
            examples: int = 50) -> dict:
    """Span errors of `predicted` (tags per sentence, in `scheme`) against the gold tags.

    Returns `errors` (`gold` and `predicted` sides, see `taxonomy.Tally.table`),
    `confusion` (`{"gold", "predicted", "count"}` over overlapping spans; None for no
    entity), the most frequent `missed` and `spurious` strings, and up to `examples`
    sentences with errors: most errors first (a sentence's errors are its gold entities
    not predicted exactly plus its predictions that are not gold), then file order.
    """
    tally = Tally()
    ranked = []  # (-errors, index) of each sentence with errors
    for index, (sentence, tags) in enumerate(zip(sentences, predicted, strict=True)):
        gold_categories, predicted_categories = tally.add(
            sentence.tokens, spans(sentence.tags, scheme), spans(tags, scheme))
        errors = sum(c != CORRECT for c in [*gold_categories, *predicted_categories])
        if errors:
            ranked.append((-errors, index))
    chosen = heapq.nsmallest(examples, ranked)
    confusion = sorted(tally.confusion.items(),
                       key=lambda item: (item[0][0] is None, item[0][0] or "",
                                         item[0][1] is None, item[0][1] or ""))
    return {
        "errors": {"gold": tally.table("gold"), "predicted": tally.table("predicted")},
        "confusion": [{"gold": gold, "predicted": guess, "count": n}
                      for (gold, guess), n in confusion],
        "missed": _frequent(tally.missed),
        "spurious": _frequent(tally.spurious),
        "sentences": len(sentences),
        "sentences_with_errors": len(ranked),
        "examples": [_example(sentences[index], predicted[index], scheme, -negative)
                     for negative, index in chosen],
    }


def _frequent(counts) -> list[dict]:
    return [{"text": text, "type": type_, "count": n}
            for (text, type_), n in counts.most_common(FREQUENT)]


def _example(sentence: Sentence, tags: Sequence[str], scheme: str, errors: int) -> dict:
    gold, guessed = spans(sentence.tags, scheme), spans(tags, scheme)
    gold_categories, predicted_categories = classify(gold, guessed)

    def entities(found, categories) -> list[dict]:
        return [{"start": start, "end": end, "type": type_, "category": category}
                for (start, end, type_), category in zip(found, categories)]

    return {"line": sentence.line, "errors": errors, "tokens": list(sentence.tokens),
            "gold": entities(gold, gold_categories),
            "predicted": entities(guessed, predicted_categories)}
