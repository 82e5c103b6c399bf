"""Linear-chain decoding proven against brute-force enumeration of all tag sequences."""

import itertools
import math

import pytest
import torch

from ner_rnn.data.schemes import allowed_transitions
from ner_rnn.model.decoding import (
    Potentials,
    kbest,
    log_partition,
    marginals,
    sequence_score,
    span_log_probability,
    viterbi,
)
from ner_rnn.model.heads import CRFHead, SoftmaxHead

TAGS = 3
LENGTHS = torch.tensor([4, 1, 3])


def random_potentials(seed=0) -> tuple[Potentials, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    p = Potentials(torch.randn(3, 4, TAGS, generator=generator),
                   torch.randn(TAGS, TAGS, generator=generator),
                   torch.randn(TAGS, generator=generator), torch.randn(TAGS, generator=generator))
    mask = torch.arange(4)[None, :] < LENGTHS[:, None]
    return p, mask


def brute_force(p: Potentials, row: int, length: int) -> list[tuple[float, tuple]]:
    """Every tag sequence of the sentence with its score, best first."""
    scored = []
    for tags in itertools.product(range(TAGS), repeat=length):
        score = p.start[tags[0]] + p.end[tags[-1]]
        score += sum(p.emissions[row, t, tag] for t, tag in enumerate(tags))
        score += sum(p.transitions[a, b] for a, b in itertools.pairwise(tags))
        scored.append((float(score), tags))
    return sorted(scored, reverse=True)


def test_log_partition_and_sequence_score():
    p, mask = random_potentials()
    log_z = log_partition(p, mask)
    for row, length in enumerate(LENGTHS.tolist()):
        scores = [s for s, _ in brute_force(p, row, length)]
        assert log_z[row].item() == pytest.approx(math.log(sum(math.exp(s) for s in scores)),
                                                  abs=1e-4)
    tags = torch.tensor([[0, 1, 2, 1], [2, 0, 0, 0], [1, 1, 0, 0]])
    for row, length in enumerate(LENGTHS.tolist()):
        expected = {t: s for s, t in brute_force(p, row, length)}[
            tuple(tags[row, :length].tolist())]
        assert sequence_score(p, tags, mask)[row].item() == pytest.approx(expected, abs=1e-4)


def test_viterbi_and_kbest_match_enumeration():
    p, mask = random_potentials(1)
    best, best_scores = viterbi(p, mask)
    paths, path_scores = kbest(p, mask, 3)
    for row, length in enumerate(LENGTHS.tolist()):
        expected = brute_force(p, row, length)
        assert tuple(best[row, :length].tolist()) == expected[0][1]
        assert best[row, length:].sum() == 0  # padding decoded as 0
        assert best_scores[row].item() == pytest.approx(expected[0][0], abs=1e-4)
        for rank in range(min(3, len(expected))):
            assert tuple(paths[row, rank, :length].tolist()) == expected[rank][1]
            assert path_scores[row, rank].item() == pytest.approx(expected[rank][0], abs=1e-4)
    assert path_scores[1].tolist()[:3] == pytest.approx([e[0] for e in brute_force(p, 1, 1)])


def test_kbest_pads_with_minus_infinity_when_fewer_paths_exist():
    p, mask = random_potentials(2)
    _, scores = kbest(p, mask, 5)
    assert math.isinf(scores[1, 3].item()) and math.isinf(scores[1, 4].item())  # 3 paths only


def test_marginals_and_span_probabilities_match_enumeration():
    p, mask = random_potentials(3)
    alpha, beta, log_z = marginals(p, mask, LENGTHS)
    for row, length in enumerate(LENGTHS.tolist()):
        sequences = brute_force(p, row, length)
        z = sum(math.exp(s) for s, _ in sequences)
        for t in range(length):
            for tag in range(TAGS):
                expected = sum(math.exp(s) for s, tags in sequences if tags[t] == tag) / z
                got = math.exp(alpha[row, t, tag] + beta[row, t, tag] - log_z[row])
                assert got == pytest.approx(expected, abs=1e-5)
        if length >= 3:
            wanted = (2, 0)
            expected = sum(math.exp(s) for s, tags in sequences if tags[1:3] == wanted) / z
            got = span_log_probability(p, alpha, beta, log_z, row, 1, 3, list(wanted))
            assert math.exp(got) == pytest.approx(expected, abs=1e-5)


def test_allowed_transitions_by_scheme():
    labels = ["B-PER", "I-PER", "O", "I-LOC"]
    allowed, start, end = allowed_transitions(labels, "iob2")
    assert allowed[2][1] is False and allowed[0][1] is True and allowed[0][3] is False
    assert start == [True, False, True, False] and all(end)
    labels = ["B-PER", "E-PER", "I-PER", "O", "S-PER"]
    allowed, start, end = allowed_transitions(labels, "bioes")
    assert allowed[0][3] is False and allowed[0][1] is True and allowed[1][0] is True
    assert allowed[4][2] is False and end == [False, True, False, True, True]
    allowed, start, _ = allowed_transitions(["B-PER", "I-PER", "O"], "iob1")
    assert allowed[2][0] is False and allowed[1][0] is True and start == [False, True, True]


LABELS = ["B-LOC", "E-LOC", "I-LOC", "O", "S-LOC"]


@pytest.mark.parametrize("head_class", [SoftmaxHead, CRFHead])
def test_constrained_decoding_never_outputs_forbidden_transitions(head_class):
    head = head_class(4, LABELS, "bioes", constrain=True)
    allowed, may_start, may_end = allowed_transitions(LABELS, "bioes")
    features = torch.randn(16, 7, 4) * 5
    mask = torch.ones(16, 7, dtype=torch.bool)
    for path in viterbi(head.potentials(features), mask)[0].tolist():
        assert may_start[path[0]] and may_end[path[-1]]
        assert all(allowed[a][b] for a, b in itertools.pairwise(path))


def test_crf_loss_batched_equals_one_at_a_time_and_trains_every_parameter():
    head = CRFHead(4, LABELS, "bioes", constrain=False)
    features = torch.randn(2, 3, 4)
    tags = torch.tensor([[0, 1, 3], [4, 3, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    batched = head.loss(features, tags, mask) * mask.sum()
    alone = sum(head.loss(features[i : i + 1, :n], tags[i : i + 1, :n], mask[i : i + 1, :n]) * n
                for i, n in enumerate([3, 2]))
    assert batched.item() == pytest.approx(alone.item(), abs=1e-4)
    batched.backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
