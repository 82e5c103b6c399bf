"""Dropout over sequences and singleton word dropout."""

import pytest
import torch

from ner_rnn.data.conll import Sentence
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.model.dropout import SequenceDropout
from ner_rnn.train.word_dropout import WordDropout


@pytest.mark.parametrize("locked", [True, False])
def test_dropout_scales_kept_features_and_is_off_in_eval(locked):
    dropout = SequenceDropout(0.25, locked)
    x = torch.ones(64, 10, 32)  # (batch, time, features)
    out = dropout(x)
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.75))
    assert 0.2 < (out == 0).float().mean().item() < 0.3
    assert torch.equal(dropout.eval()(x), x)


def test_locked_dropout_draws_one_mask_per_sequence_shared_over_time():
    x = torch.ones(64, 10, 32)
    locked = SequenceDropout(0.5, locked=True)(x)
    assert torch.equal(locked, locked[:, :1].expand_as(locked))  # the same at every step
    assert not torch.equal(locked[0], locked[1])  # but its own for each sequence
    free = SequenceDropout(0.5, locked=False)(x)
    assert not torch.equal(free, free[:, :1].expand_as(free))


def singletons(vocabs, sentences):
    dropout = WordDropout.for_corpus(vocabs, sentences, 0.5, torch.device("cpu"))
    return {vocabs.words.items[i] for i in dropout.singletons.nonzero().flatten().tolist()}


def test_singletons_are_counted_after_normalisation():
    corpus = [["Paris", "paris", "Rome", "1996", "2001"]]
    tags = [["O"] * 5]
    lowercased = Vocabularies.build(corpus, tags, lowercase=True)
    assert singletons(lowercased, [_sentence(corpus[0])]) == {"rome"}  # digits: "0000" twice
    cased = Vocabularies.build(corpus, tags)
    assert singletons(cased, [_sentence(corpus[0])]) == {"Paris", "paris", "Rome"}
    frequent = Vocabularies.build(corpus, tags, min_freq=2, lowercase=True)
    assert singletons(frequent, [_sentence(corpus[0])]) == set()  # already <unk>, never marked
    assert WordDropout.for_corpus(cased, [_sentence(corpus[0])], 0.0, torch.device("cpu")) is None


def _sentence(tokens):
    return Sentence(tokens, ["O"] * len(tokens))
