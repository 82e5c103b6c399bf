"""Parameter-free decoding over a linear chain: Viterbi, k-best Viterbi, forward-backward.

Every function takes the same potentials:
    emissions: float (batch, time, tags), score of each tag at each step;
    transitions: float (tags, tags), transitions[i, j] = score of moving from tag i to j;
    start, end: float (tags,), scores of the first and the last tag;
    mask: bool (batch, time), True on real steps; mask[:, 0] is all True.
Loops run over time only; batch and tags are vectorised. Padded steps copy the state
forward unchanged, so a sentence ends at its own length.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ner_rnn.model.steps import gather_steps, reverse_within_lengths

NEG_INF = -1e4  # score of an impossible tag or transition; finite, so gradients stay defined
TINY = 1e-30  # floor for sums of probabilities before their log


class Potentials(NamedTuple):
    emissions: torch.Tensor  # float (batch, time, tags)
    transitions: torch.Tensor  # float (tags, tags), [from, to]
    start: torch.Tensor  # float (tags,)
    end: torch.Tensor  # float (tags,)


def forward_scores(p: Potentials, mask: torch.Tensor) -> torch.Tensor:
    """alpha: float (batch, time, tags), log-sum of all prefixes ending in each tag at each
    step (emission included); on padded steps it repeats the last real step."""
    # logsumexp over `from` as a matrix product in probability space, shifted by each
    # row's maximum: log(exp(alpha - max) @ exp(transitions)) + max. The floor keeps the
    # log finite (and its gradient defined) when every path to a tag has underflowed.
    transitions = p.transitions.exp()  # (from, to)
    alpha = p.start + p.emissions[:, 0]  # (batch, tags)
    alphas = [alpha]
    for t in range(1, p.emissions.size(1)):
        top = alpha.max(dim=1, keepdim=True).values  # (batch, 1)
        total = (alpha - top).exp() @ transitions  # (batch, to)
        step = total.clamp_min(TINY).log() + top + p.emissions[:, t]
        alpha = torch.where(mask[:, t : t + 1], step, alpha)
        alphas.append(alpha)
    return torch.stack(alphas, dim=1)  # (batch, time, tags)


def log_partition(p: Potentials, mask: torch.Tensor) -> torch.Tensor:
    """log Z: float (batch,), the log-sum of the scores of all tag sequences."""
    return torch.logsumexp(forward_scores(p, mask)[:, -1] + p.end, dim=1)


def sequence_score(p: Potentials, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Score of the given tag sequences: float (batch,). tags: long (batch, time)."""
    weights = mask.to(p.emissions.dtype)  # (batch, time)
    emitted = p.emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, time)
    moved = p.transitions[tags[:, :-1], tags[:, 1:]]  # (batch, time - 1)
    last = tags.gather(1, (mask.sum(dim=1, keepdim=True) - 1)).squeeze(1)  # (batch,)
    return (p.start[tags[:, 0]] + (emitted * weights).sum(1)
            + (moved * weights[:, 1:]).sum(1) + p.end[last])


def viterbi(p: Potentials, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Best tag sequence per sentence: long (batch, time), 0 on padding; and its score."""
    batch, time, tags = p.emissions.shape
    score = p.start + p.emissions[:, 0]  # (batch, tags)
    identity = torch.arange(tags, device=score.device).expand(batch, tags)  # (batch, tags)
    pointers = []
    for t in range(1, time):
        best, previous = (score.unsqueeze(2) + p.transitions).max(dim=1)  # (batch, to)
        keep = mask[:, t : t + 1]  # (batch, 1)
        score = torch.where(keep, best + p.emissions[:, t], score)
        pointers.append(torch.where(keep, previous, identity))  # padding points to itself
    total, last = (score + p.end).max(dim=1)  # (batch,)
    path = [last]
    for previous in reversed(pointers):
        last = previous.gather(1, last.unsqueeze(1)).squeeze(1)
        path.append(last)
    return torch.stack(path[::-1], dim=1) * mask, total  # (batch, time), (batch,)


def kbest(p: Potentials, mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k best tag sequences per sentence, best first.

    Returns tags long (batch, k, time), 0 on padding, and scores float (batch, k); where a
    sentence has fewer than k sequences, the missing ones score -inf.
    """
    batch, time, tags = p.emissions.shape
    score = torch.full((batch, tags, k), float("-inf"), device=p.emissions.device)
    score[:, :, 0] = p.start + p.emissions[:, 0]  # (batch, tags, k): k best ending in each tag
    stay = torch.arange(tags * k, device=score.device).view(tags, k).expand(batch, tags, k)
    pointers = []  # flat index from * k + rank of the predecessor
    for t in range(1, time):
        # (batch, from, k, 1) + (from, 1, to) -> (batch, from * k, to)
        candidates = (score.unsqueeze(3) + p.transitions.unsqueeze(1)).reshape(batch, -1, tags)
        best, previous = candidates.topk(k, dim=1)  # (batch, k, to)
        best = best.transpose(1, 2) + p.emissions[:, t].unsqueeze(2)  # (batch, to, k)
        keep = mask[:, t].view(batch, 1, 1)
        score = torch.where(keep, best, score)
        pointers.append(torch.where(keep, previous.transpose(1, 2), stay))
    totals, flat = (score + p.end.view(1, tags, 1)).reshape(batch, -1).topk(k, dim=1)
    path = [flat // k]  # (batch, k): the last tag of each of the k paths
    for previous in reversed(pointers):
        flat = previous.reshape(batch, -1).gather(1, flat)  # (batch, k)
        path.append(flat // k)
    paths = torch.stack(path[::-1], dim=2)  # (batch, k, time)
    return paths * mask.unsqueeze(1), totals


def marginals(p: Potentials, mask: torch.Tensor, lengths: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward-backward: alpha, beta (batch, time, tags) and log Z (batch,).

    beta[b, t, j] is the log-sum of all suffixes after step t given tag j at t (end score
    included, emission at t excluded), so exp(alpha + beta - log Z) is P(tag j at t).
    """
    alpha = forward_scores(p, mask)  # (batch, time, tags)
    log_z = torch.logsumexp(alpha[:, -1] + p.end, dim=1)  # padded steps repeat the last
    backward_index = reverse_within_lengths(lengths, p.emissions.size(1))  # (batch, time)
    reversed_emissions = gather_steps(p.emissions, backward_index)
    reverse = Potentials(reversed_emissions, p.transitions.T, p.end, p.start)
    beta = gather_steps(forward_scores(reverse, mask), backward_index) - p.emissions
    return alpha, beta, log_z


def span_log_probability(p: Potentials, alpha: torch.Tensor, beta: torch.Tensor,
                         log_z: torch.Tensor, row: int, start: int, end: int,
                         tags: list[int]) -> float:
    """log P(steps start..end-1 of sentence `row` carry exactly `tags`)."""
    score = alpha[row, start, tags[0]] + beta[row, end - 1, tags[-1]]
    for t in range(start + 1, end):
        score = score + p.transitions[tags[t - start - 1], tags[t - start]] \
            + p.emissions[row, t, tags[t - start]]
    return float(score - log_z[row])
