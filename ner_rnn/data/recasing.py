"""Re-casing a corpus: how a model holds on text cased unlike its training data.

`evaluate --transform lowercase` scores a corpus with every token lowercased and the
tags unchanged, as a model would meet badly cased web text, chat or headlines.
"""

from __future__ import annotations

import dataclasses

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
