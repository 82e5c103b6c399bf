"""`--nbest` with `model.head.constrain: false`: the k paths read as k distinct tag
sequences, each with the probability of every path that reads as it."""

import math
from types import SimpleNamespace

import torch

from ner_rnn.model.decoding import Potentials, log_partition
from ner_rnn.model.heads import SoftmaxHead
from ner_rnn.predict.decode import _distinct_kbest
from ner_rnn.predict.spans import SpanReader

LABELS = ["B-PER", "I-PER", "O"]


def test_unconstrained_kbest_paths_read_as_distinct_tags_with_summed_probabilities():
    head = SoftmaxHead(2, LABELS, "iob2", constrain=False)
    # 2 tokens, 9 paths, 5 readings: B-PER and I-PER both begin an entity after O
    emissions = torch.tensor([[[0.45, 0.45, 0.1], [0.05, 0.05, 0.9]]]).log()  # (1, 2, 3)
    p = Potentials(emissions, head.transition_penalty, head.start_penalty, head.end_penalty)
    mask = torch.ones(1, 2, dtype=torch.bool)
    reader = SpanReader(LABELS, "iob2")
    paths, scores, valid = _distinct_kbest(SimpleNamespace(head=head), p, mask, 8, reader)
    assert valid.tolist() == [[True] * 5 + [False] * 3]
    readings = [tuple(zip(*(x.tolist() for x in (s.start, s.end, s.type))))
                for s in (reader.spans(path.numpy(), [2]) for path in paths[0, :5])]
    assert len(set(readings)) == 5
    assert readings[0] == ((0, 1, 0),)  # B-PER O and I-PER O together: 0.81
    probabilities = (scores[0, :5] - log_partition(p, mask)).exp().tolist()
    assert math.isclose(probabilities[0], 0.81, rel_tol=1e-5)
    assert math.isclose(sum(probabilities), 1.0, rel_tol=1e-5)
    assert probabilities == sorted(probabilities, reverse=True)


def test_tag_nbest_without_constraints_gives_distinct_tag_sequences():
    from ner_rnn.config import load_config
    from ner_rnn.data.vocab import Vocabularies
    from ner_rnn.model.network import build_network
    from ner_rnn.serve.tagger import Tagger
    from tests.conftest import ROOT

    config = load_config(ROOT / "configs" / "default.yaml", [
        "model.head.type=crf", "model.head.constrain=false", "model.scheme=iob2",
        "data.scheme=iob2", "model.embeddings.word.dim=4", "model.encoder.hidden_size=4",
        "threads=1"])
    vocabs = Vocabularies.build([["Apple", "is", "big"]], [LABELS])
    network = build_network(config, vocabs)
    with torch.no_grad():  # B-PER and I-PER alike on every token, O less likely
        for parameter in network.head.parameters():
            parameter.zero_()
        network.head.projection.bias.copy_(torch.tensor([1.0, 1.0, 0.0]))
    # the 8 best paths tie and read as 4 sequences (the first B-PER or I-PER): 5 of them
    # hold one sequence twice
    [result] = Tagger(config, vocabs, network).tag(["Apple is big"], nbest=5)
    sequences = [tuple(alternative["tags"]) for alternative in result["nbest"]]
    assert len(sequences) == 5 and len(set(sequences)) == 5
