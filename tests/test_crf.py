"""Linear-chain decoding proven against brute-force enumeration of all tag sequences."""

import functools
import itertools
import math

import pytest
import torch

from ner_rnn.data.schemes import allowed_transitions
from ner_rnn.model import decoding
from ner_rnn.model.constants import MAX_NBEST, NEG_INF
from ner_rnn.model.decoding import (
    Potentials,
    kbest,
    log_partition,
    marginals,
    sequence_score,
    viterbi,
)
from ner_rnn.model.heads import CRFHead, SoftmaxHead

TAGS = 3
LENGTHS = torch.tensor([4, 1, 3])


def random_potentials(seed=0, scale=1.0, dtype=torch.float32, lengths=LENGTHS
                      ) -> tuple[Potentials, torch.Tensor]:
    """Potentials for sentences of `lengths`, emissions of standard deviation `scale`."""
    generator = torch.Generator().manual_seed(seed)
    time = int(lengths.max())

    def draw(*shape):
        return torch.randn(*shape, generator=generator, dtype=dtype)

    p = Potentials(draw(len(lengths), time, TAGS) * scale, draw(TAGS, TAGS), draw(TAGS),
                   draw(TAGS))
    mask = torch.arange(time)[None, :] < lengths[:, None]
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


def brute_log_partition(p: Potentials, lengths: torch.Tensor) -> torch.Tensor:
    """log Z of every sentence by enumeration, differentiable: float (batch,)."""
    totals = []
    for row, length in enumerate(lengths.tolist()):
        scores = []
        for tags in itertools.product(range(TAGS), repeat=length):
            score = p.start[tags[0]] + p.end[tags[-1]]
            score = score + sum(p.emissions[row, t, tag] for t, tag in enumerate(tags))
            scores.append(score + sum(p.transitions[a, b] for a, b in itertools.pairwise(tags)))
        totals.append(torch.logsumexp(torch.stack(scores), dim=0))
    return torch.stack(totals)


def gradients(value: torch.Tensor, p: Potentials) -> list[torch.Tensor]:
    found = torch.autograd.grad(value, list(p), allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for g, x in zip(found, p)]


SIXTEEN = [3, 1, 2, 2, 1, 3, 2, 1, 1, 2, 3, 1, 2, 1, 3, 2]  # 32 chains: no idle ones
# the recursions (CPU) and the tree of matrix products (what a GPU runs)
ALGORITHMS = [functools.partial(log_partition, algorithm="recursion"),
              functools.partial(log_partition, algorithm="tree")]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("scale, transition", [(1.0, None), (50.0, 100.0), (50.0, 1000.0)])
@pytest.mark.parametrize("lengths", [[4, 1, 3], [5, 2, 5, 4], [1], [2, 1], [3, 3], [7, 2, 6],
                                     [8, 1, 5, 2], SIXTEEN])
def test_log_partition_equals_enumeration_in_value_and_gradient(algorithm, scale, transition,
                                                                lengths):
    """Exact at any scale: emissions of standard deviation 50, a transition of 100 or
    1000 (past exp's range in float32 and float64 alike), padded batches."""
    p, mask = random_potentials(len(lengths), scale, torch.float64, torch.tensor(lengths))
    if transition is not None:
        p.transitions.data[0, 1] = transition
    for tensor in p:
        tensor.requires_grad_()
    log_z = algorithm(p, mask)
    expected = brute_log_partition(p, torch.tensor(lengths))
    assert torch.allclose(log_z, expected, rtol=1e-12, atol=1e-9)
    weights = torch.linspace(0.5, 2.0, len(lengths), dtype=torch.float64)  # one per sentence
    for found, wanted in zip(gradients((log_z * weights).sum(), p),
                             gradients((expected * weights).sum(), p)):
        assert torch.allclose(found, wanted, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_log_partition_in_float32_at_large_scores_is_finite_and_close(algorithm):
    p, mask = random_potentials(7, 50.0)
    p.transitions[0, 1] = 100.0
    expected = brute_log_partition(Potentials(*(x.double() for x in p)), LENGTHS)
    assert torch.allclose(algorithm(p, mask).double(), expected, rtol=1e-6)


def test_viterbi_and_kbest_match_enumeration():
    p, mask = random_potentials(1)
    best, best_scores = viterbi(p, mask)
    paths, path_scores, valid = kbest(p, mask, 3)
    assert valid.all()
    for row, length in enumerate(LENGTHS.tolist()):
        expected = brute_force(p, row, length)
        assert tuple(best[row, :length].tolist()) == expected[0][1]
        assert best[row, length:].sum() == 0  # padding decoded as 0
        assert best_scores[row].item() == pytest.approx(expected[0][0], abs=1e-4)
        for rank in range(min(3, len(expected))):
            assert tuple(paths[row, rank, :length].tolist()) == expected[rank][1]
            assert path_scores[row, rank].item() == pytest.approx(expected[rank][0], abs=1e-4)
    assert path_scores[1].tolist()[:3] == pytest.approx([e[0] for e in brute_force(p, 1, 1)])


@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_viterbi_equals_enumeration_at_any_scale(scale):
    p, mask = random_potentials(11, scale, lengths=torch.tensor([5, 2, 4, 1]))
    best, score = viterbi(p, mask)
    for row, length in enumerate([5, 2, 4, 1]):
        expected = brute_force(p, row, length)[0]
        assert tuple(best[row, :length].tolist()) == expected[1]
        assert score[row].item() == pytest.approx(expected[0], rel=1e-6)


def test_kbest_marks_missing_sequences_invalid_and_pads_them():
    p, mask = random_potentials(2)
    paths, scores, valid = kbest(p, mask, 5)
    assert valid[1].tolist() == [True, True, True, False, False]  # 1 token: 3 sequences
    assert valid[[0, 2]].all()
    assert scores[1, 3:].tolist() == [NEG_INF, NEG_INF] and paths[1, 3:].sum() == 0


def test_kbest_in_groups_equals_kbest_at_once(monkeypatch):
    p, mask = random_potentials(5)
    at_once = kbest(p, mask, 4)
    monkeypatch.setattr(decoding, "KBEST_BUDGET", 1)  # one sentence at a time
    for whole, grouped in zip(at_once, kbest(p, mask, 4)):
        assert torch.equal(whole, grouped)


@pytest.mark.parametrize("k", [0, MAX_NBEST + 1, 10**9])
def test_kbest_refuses_k_out_of_range(k):
    p, mask = random_potentials()
    with pytest.raises(ValueError, match=f"k-best: expected k from 1 to {MAX_NBEST}, got {k}"):
        kbest(p, mask, k)


@pytest.mark.parametrize("head_class", [SoftmaxHead, CRFHead])
def test_kbest_of_a_10000_token_sentence_has_valid_paths(head_class):
    """Scores far below NEG_INF are still real sequences; only forbidden ones are invalid."""
    head = head_class(4, LABELS, "bioes", constrain=True)
    features = torch.randn(1, 10_000, 4) * 3
    mask = torch.ones(1, 10_000, dtype=torch.bool)
    with torch.no_grad():
        p = head.potentials(features)
        p = p._replace(emissions=p.emissions - 10.0)  # every tag scores below -10 everywhere
        _, scores, valid = head.kbest(p, mask, 3)
    assert valid.all() and scores.max() < NEG_INF  # the path scores are that low
    assert scores[0, 0] == viterbi(p, mask)[1][0]  # paths may differ only where scores tie


def test_head_kbest_marks_forbidden_sequences_invalid():
    head = CRFHead(4, LABELS, "bioes", constrain=True)
    features = torch.randn(2, 2, 4)
    mask = torch.tensor([[True, True], [True, False]])
    paths, scores, valid = head.kbest(head.potentials(features), mask, 25)
    allowed, may_start, may_end = allowed_transitions(LABELS, "bioes")
    for row, length in enumerate([2, 1]):
        for path, score, ok in zip(paths[row].tolist(), scores[row].tolist(),
                                   valid[row].tolist()):
            tags = path[:length]
            if ok:
                assert may_start[tags[0]] and may_end[tags[-1]]
                assert all(allowed[a][b] for a, b in itertools.pairwise(tags))
            else:
                assert score == NEG_INF and sum(path) == 0
    # 2 tokens: O, S-LOC or E-LOC... well formed: B E, O O, O S, S O, S S; 1 token: O, S
    assert valid.sum(dim=1).tolist() == [5, 2]


def span_log_probability(p: Potentials, alpha: torch.Tensor, beta: torch.Tensor,
                         log_z: torch.Tensor, row: int, start: int, end: int,
                         tags: list[int]) -> float:
    """log P(steps start..end-1 of sentence `row` carry exactly `tags`), from the
    forward and backward scores `marginals` returns."""
    score = alpha[row, start, tags[0]] + beta[row, end - 1, tags[-1]]
    for t in range(start + 1, end):
        score = score + p.transitions[tags[t - start - 1], tags[t - start]] \
            + p.emissions[row, t, tags[t - start]]
    return float(score - log_z[row])


def test_marginals_and_span_probabilities_match_enumeration():
    p, mask = random_potentials(3)
    alpha, beta, log_z = marginals(p, mask)
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
    allowed, start, end = (x.tolist() for x in allowed_transitions(labels, "iob2"))
    assert allowed[2][1] is False and allowed[0][1] is True and allowed[0][3] is False
    assert start == [True, False, True, False] and all(end)
    labels = ["B-PER", "E-PER", "I-PER", "O", "S-PER"]
    allowed, start, end = (x.tolist() for x in allowed_transitions(labels, "bioes"))
    assert allowed[0][3] is False and allowed[0][1] is True and allowed[1][0] is True
    assert allowed[4][2] is False and end == [False, True, False, True, True]
    allowed, start, _ = (x.tolist() for x in allowed_transitions(["B-PER", "I-PER", "O"], "iob1"))
    assert allowed[2][0] is False and allowed[1][0] is True and start == [False, True, True]


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "bioes"])
def test_allowed_transitions_are_the_rules_pair_by_pair(scheme):
    """The array operations give, for every pair of labels, what the rules say of it."""
    labels = [f"{prefix}-{type_}" for prefix in "BIES" for type_ in ("PER", "LOC")] + ["O"]
    allowed, may_start, may_end = (x.tolist() for x in allowed_transitions(labels, scheme))
    parsed = [(label[0], label[2:]) for label in labels]

    def may_follow(previous, tag):
        inside = previous is not None and previous[0] in "BI" and previous[1] == tag[1]
        if scheme == "iob2":
            return tag[0] != "I" or inside
        if scheme == "iob1":
            return tag[0] != "B" or (previous is not None and previous[1] == tag[1])
        return inside if tag[0] in "IE" else previous is None or previous[0] in "OES"

    assert allowed == [[may_follow(a, b) for b in parsed] for a in parsed]
    assert may_start == [may_follow(None, b) for b in parsed]
    assert may_end == [scheme != "bioes" or prefix in "OES" for prefix, _ in parsed]


LABELS = ["B-LOC", "E-LOC", "I-LOC", "O", "S-LOC"]


@pytest.mark.parametrize("head_class", [SoftmaxHead, CRFHead])
def test_constrained_decoding_never_outputs_forbidden_transitions(head_class):
    head = head_class(4, LABELS, "bioes", constrain=True)
    allowed, may_start, may_end = allowed_transitions(LABELS, "bioes")
    features = torch.randn(16, 7, 4) * 5
    mask = torch.ones(16, 7, dtype=torch.bool)
    for path in head.decode(head.potentials(features), mask).tolist():
        assert may_start[path[0]] and may_end[path[-1]]
        assert all(allowed[a][b] for a, b in itertools.pairwise(path))


def test_crf_loss_batched_equals_one_at_a_time_and_trains_every_parameter():
    head = CRFHead(4, LABELS, "bioes", constrain=False)
    features = torch.randn(2, 3, 4)
    tags = torch.tensor([[0, 1, 3], [4, 3, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    batched = head.loss(head.potentials(features), tags, mask) * mask.sum()
    alone = sum(head.loss(head.potentials(features[i : i + 1, :n]), tags[i : i + 1, :n],
                          mask[i : i + 1, :n]) * n for i, n in enumerate([3, 2]))
    assert batched.item() == pytest.approx(alone.item(), abs=1e-4)
    batched.backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_marginals_follow_autograd_when_the_inputs_require_grad():
    p, mask = random_potentials(4)
    expected = marginals(p, mask)
    tracked = Potentials(*(x.clone().requires_grad_() for x in p))
    alpha, beta, log_z = marginals(tracked, mask)
    for got, want in zip((alpha, beta, log_z), expected):
        assert torch.equal(got.detach(), want)
    log_z.sum().backward()  # d log Z / d emissions = the tag marginals
    reference = Potentials(*(x.clone().requires_grad_() for x in p))
    decoding._tree_log_partition(reference, mask).sum().backward()
    for got, want in zip(tracked, reference):
        torch.testing.assert_close(got.grad, want.grad)
