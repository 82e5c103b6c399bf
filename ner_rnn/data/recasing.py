"""Re-casing a corpus: how a model holds on text cased unlike its training data.

`evaluate --transform lowercase` scores a corpus with every token lowercased and the
tags unchanged, as a model would meet badly cased web text, chat or headlines;
`train.augment_casing` trains on re-cased copies of part of the corpus besides it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ner_rnn.data.conll import Sentence

TRANSFORMS = {
    "lowercase": str.lower,
    "uppercase": str.upper,
    "titlecase": str.title,  # "new york-based" -> "New York-Based"
}


def recase(sentences: list[Sentence], transform: str) -> list[Sentence]:
    """The sentences with each token re-cased by the named transform, tags unchanged."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform: expected one of {', '.join(TRANSFORMS)}, "
                         f"got {transform!r}")
    change = TRANSFORMS[transform]
    # a token never becomes empty or gains whitespace: case maps keep letters letters
    return [dataclasses.replace(sentence, tokens=[change(token) for token in sentence.tokens])
            for sentence in sentences]


def recased_copies(sentences: list[Sentence], share: float, seed: int) -> list[Sentence]:
    """Training data for robustness to casing: a random `share` of the documents again,
    each with every token re-cased by one transform drawn for it, as new documents after
    the corpus's own. A corpus without document boundaries draws sentence by sentence.
    The same sentences, share and seed give the same copies (a resumed run trains on them)."""
    if share == 0 or not sentences:
        return []
    units = _documents(sentences)
    rng = np.random.default_rng([seed, 0x7EC])  # its own stream: the batch order is unchanged
    chosen = np.flatnonzero(rng.random(len(units)) < share)
    names = list(TRANSFORMS)
    transforms = rng.integers(len(names), size=len(chosen))
    first = max(sentence.document for sentence in sentences) + 1
    return [dataclasses.replace(copy, document=first + number)
            for number, (unit, transform) in enumerate(zip(chosen, transforms))
            for copy in recase(units[unit], names[transform])]


def _documents(sentences: list[Sentence]) -> list[list[Sentence]]:
    """The corpus's documents in order, or its sentences one by one when it has one."""
    documents: dict[int, list[Sentence]] = {}
    for sentence in sentences:
        documents.setdefault(sentence.document, []).append(sentence)
    if len(documents) == 1:
        return [[sentence] for sentence in sentences]
    return list(documents.values())
