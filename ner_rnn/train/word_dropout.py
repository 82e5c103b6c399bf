"""Singleton word dropout: words seen once in training sometimes read as <unk>."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch

from ner_rnn.data.conll import Sentence
from ner_rnn.data.vocab import Vocabularies


class WordDropout:
    """Replace words seen once in training by <unk> with probability p (Lample et al.
    2016), so the model learns what to do with words it does not know."""

    def __init__(self, singletons: torch.Tensor, p: float, unk_id: int):
        self.singletons, self.p, self.unk_id = singletons, p, unk_id  # bool (words,)

    @classmethod
    def for_corpus(cls, vocabs: Vocabularies, sentences: Sequence[Sentence], p: float,
                   device: torch.device) -> WordDropout | None:
        """Singletons are counted after the vocabulary's normalisation (lowercasing,
        digits), so "Paris" and "paris" are one word when words are lowercased."""
        if p == 0:
            return None
        counts = Counter(vocabs.normalize(t) for sentence in sentences for t in sentence.tokens)
        singletons = torch.zeros(len(vocabs.words), dtype=torch.bool)
        once = [vocabs.words.id(w) for w, n in counts.items() if n == 1]
        singletons[torch.tensor(once, dtype=torch.long)] = True
        singletons[vocabs.words.unk_id] = False  # words below min_freq map to <unk>
        return cls(singletons.to(device), p, vocabs.words.unk_id)

    def __call__(self, words: torch.Tensor) -> torch.Tensor:
        """words: long (rows, row time) -> same, some singletons replaced by <unk>."""
        drop = self.singletons[words] & (torch.rand(words.shape, device=words.device) < self.p)
        return torch.where(drop, self.unk_id, words)
