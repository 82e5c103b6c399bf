"""Parameter-free decoding over a linear chain: log-partition, Viterbi, k-best Viterbi,
forward-backward.

Every function takes the same potentials:
    emissions: float (batch, time, tags), score of each tag at each step;
    transitions: float (tags, tags), transitions[i, j] = score of moving from tag i to j;
    start, end: float (tags,), scores of the first and the last tag;
    mask: bool (batch, time), True on real steps; mask[:, 0] is all True.

A sentence is a chain: `start + emissions[0]`, then one matrix per step,
`M_t[i, j] = transitions[i, j] + emissions[t, j]`, then `end`. Padded steps get the
identity (0 on the diagonal, -inf elsewhere: the states pass through unchanged), so no
loop needs a mask and each sentence ends at its own length. Loops run over time only,
two or three ops per step on the whole batch; every sum over tags is an exact
log-sum-exp, at any scale of the scores.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ner_rnn.model.constants import MAX_NBEST, NEG_INF

KBEST_BUDGET = 2**24  # k-best back-pointers (and candidates) held at once, in elements


class Potentials(NamedTuple):
    emissions: torch.Tensor  # float (batch, time, tags)
    transitions: torch.Tensor  # float (tags, tags), [from, to]
    start: torch.Tensor  # float (tags,)
    end: torch.Tensor  # float (tags,)


def _identity(moves: torch.Tensor) -> torch.Tensor:
    """The identity of (log-sum-exp, +) and of (max, +) for (tags, tags) like `moves`:
    log 1 on the diagonal, log 0 elsewhere. -inf is exact here and harmless to
    gradients, because every state it meets is finite."""
    tags = moves.size(-1)
    return torch.full((tags, tags), float("-inf"), dtype=moves.dtype,
                      device=moves.device).fill_diagonal_(0.0)  # (tags, tags)


def step_matrices(p: Potentials, mask: torch.Tensor, steps: int | None = None
                  ) -> torch.Tensor:
    """M: float (batch, steps, tags, tags), M[:, t - 1] the scores of step t (moving into
    each tag, plus its emission); the identity on padded steps. `steps` (at least time
    - 1) pads the chain with identities."""
    emissions, keep = p.emissions[:, 1:], mask[:, 1:]  # (batch, time - 1, ...)
    extra = 0 if steps is None else steps - emissions.size(1)
    if extra:
        emissions = F.pad(emissions, (0, 0, 0, extra))  # (batch, steps, tags)
        keep = F.pad(keep, (0, extra))  # (batch, steps)
    moves = p.transitions + emissions.unsqueeze(2)  # (batch, steps, from, to)
    return torch.where(keep[:, :, None, None], moves, _identity(moves))


def _both_ways(steps: torch.Tensor) -> torch.Tensor:
    """The forward and the backward recursions' matrices, side by side on the batch axis:
    float (steps, to, from, 2 * batch). Row s holds M_{s+1} for the forward recursion and
    M_{steps-s} for the backward one (which moves from the tag at t to the tag at t - 1)."""
    forward = steps.permute(1, 3, 2, 0)  # (steps, to, from, batch)
    backward = steps.flip(1).permute(1, 2, 3, 0)  # (steps, i at t-1, k at t, batch)
    return torch.cat([forward, backward], dim=3)


def _sweep(state: torch.Tensor, matrices) -> torch.Tensor:
    """Run the stacked recursions: state float (tags, 2 * batch), matrices a sequence
    of (to, from, 2 * batch). Returns every state, the first included: (len + 1, tags,
    2 * batch)."""
    states = [state]
    for matrix in matrices:
        state = torch.logsumexp(state + matrix, dim=1)  # (to, 2 * batch)
        states.append(state)
    return torch.stack(states)


class _LogPartition(torch.autograd.Function):
    """log Z from the forward recursion (prefix scores, from the first tag) and the
    backward one (suffix scores, from the end) run together, each over half of the
    chain: they meet in the middle. The backward pass completes both and returns the
    exact gradients, the tag and transition marginals."""

    @staticmethod
    def forward(ctx, first: torch.Tensor, steps: torch.Tensor, last: torch.Tensor
                ) -> torch.Tensor:
        """first, last: float (batch, tags); steps: float (batch, 2 * half, tags, tags)."""
        half = steps.size(1) // 2
        matrices = _both_ways(steps)  # (steps, to, from, 2 * batch)
        states = _sweep(torch.cat([first.T, last.T], dim=1), matrices[:half])
        batch = first.size(0)
        log_z = torch.logsumexp(states[-1, :, :batch] + states[-1, :, batch:], dim=0)
        ctx.save_for_backward(steps, matrices, states, log_z)
        return log_z  # (batch,)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        steps, matrices, states, log_z = ctx.saved_tensors
        half, batch = steps.size(1) // 2, log_z.size(0)
        rest = _sweep(states[-1], matrices[half:])  # (half + 1, tags, 2 * batch)
        states = torch.cat([states, rest[1:]])  # (steps + 1, tags, 2 * batch)
        alpha = states[:, :, :batch].permute(2, 0, 1)  # (batch, steps + 1, tags): prefixes
        beta = states.flip(0)[:, :, batch:].permute(2, 0, 1)  # suffixes after each step
        pairs = (alpha[:, :-1, :, None] + steps + beta[:, 1:, None, :]
                 - log_z[:, None, None, None]).exp() * grad[:, None, None, None]
        ends = (alpha[:, [0, -1]] + beta[:, [0, -1]] - log_z[:, None, None]).exp()
        ends = ends * grad[:, None, None]  # (batch, 2, tags): P(first tag), P(last tag)
        return ends[:, 0], pairs, ends[:, 1]


def log_partition(p: Potentials, mask: torch.Tensor) -> torch.Tensor:
    """log Z: float (batch,), the log-sum of the scores of all tag sequences."""
    time = p.emissions.size(1)
    steps = step_matrices(p, mask, time - 1 + (time - 1) % 2)  # an even number of steps
    first = p.start + p.emissions[:, 0]  # (batch, tags)
    return _LogPartition.apply(first, steps, p.end.expand_as(first))


def marginals(p: Potentials, mask: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward-backward: alpha, beta (batch, time, tags) and log Z (batch,).

    alpha[b, t, j] is the log-sum of all prefixes ending in tag j at step t (emission
    included); beta[b, t, j] that of all suffixes after step t given tag j at t (end
    score included), so exp(alpha + beta - log Z) is P(tag j at t). On padded steps both
    repeat the last real step.
    """
    batch = mask.size(0)
    first = p.start + p.emissions[:, 0]  # (batch, tags)
    last = p.end.expand_as(first)  # (batch, tags)
    states = _sweep(torch.cat([first.T, last.T], dim=1), _both_ways(step_matrices(p, mask)))
    alpha = states[:, :, :batch].permute(2, 0, 1)  # (batch, time, tags)
    beta = states.flip(0)[:, :, batch:].permute(2, 0, 1)  # (batch, time, tags)
    return alpha, beta, torch.logsumexp(alpha[:, 0] + beta[:, 0], dim=1)


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
    moves = torch.where(mask[:, 1:, None, None], p.transitions,
                        _identity(p.transitions))  # (batch, time - 1, from, to)
    emitted = torch.where(mask.unsqueeze(2), p.emissions, 0.0)  # (batch, time, tags)
    score = (p.start + p.emissions[:, 0]).T  # (tags, batch)
    pointers = []
    for move, emission in zip(moves.permute(1, 3, 2, 0), emitted[:, 1:].permute(1, 2, 0)):
        best, previous = (score + move).max(dim=1)  # (to, batch): padding keeps its tag
        score = best + emission
        pointers.append(previous)
    total, last = (score + p.end[:, None]).max(dim=0)  # (batch,)
    return _backtrack(pointers, last) * mask, total


def _backtrack(pointers: list[torch.Tensor], last: torch.Tensor) -> torch.Tensor:
    """Follow back-pointers (each long (tags, batch): the best previous tag per tag) from
    the last tags (batch,) on the host; returns long (batch, time) on `last`'s device."""
    tags = last.cpu().numpy()
    path = [tags]
    if pointers:
        columns = np.arange(tags.size)
        for previous in torch.stack(pointers).cpu().numpy()[::-1]:  # (tags, batch) each
            tags = previous[tags, columns]
            path.append(tags)
    return torch.from_numpy(np.stack(path[::-1], axis=1)).to(last.device)  # (batch, time)


def kbest(p: Potentials, mask: torch.Tensor, k: int
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The k best tag sequences per sentence, best first.

    Returns tags long (batch, k, time), scores float (batch, k) and valid bool (batch,
    k): False where a sentence has fewer than k sequences, and there the tags are 0 and
    the score NEG_INF. Sentences are decoded in groups small enough that the
    back-pointers stay within KBEST_BUDGET elements.
    """
    if not 1 <= k <= MAX_NBEST:
        raise ValueError(f"k-best: expected k from 1 to {MAX_NBEST}, got {k}")
    batch, time, tags = p.emissions.shape
    rows = max(1, KBEST_BUDGET // (k * tags * max(time, tags)))
    parts = [_kbest(Potentials(p.emissions[i : i + rows], *p[1:]), mask[i : i + rows], k)
             for i in range(0, batch, rows)]
    paths, scores = (torch.cat(part) for part in zip(*parts))
    valid = scores > float("-inf")  # a real sequence has a finite score, however long
    return paths * valid.unsqueeze(2), torch.where(valid, scores, NEG_INF), valid


def _kbest(p: Potentials, mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """k-best Viterbi for one group of sentences: tags (batch, k, time) and scores
    (batch, k), -inf where there are fewer than k sequences."""
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


def span_log_probability(p: Potentials, alpha: torch.Tensor, beta: torch.Tensor,
                         log_z: torch.Tensor, row: int, start: int, end: int,
                         tags: list[int]) -> float:
    """log P(steps start..end-1 of sentence `row` carry exactly `tags`)."""
    score = alpha[row, start, tags[0]] + beta[row, end - 1, tags[-1]]
    for t in range(start + 1, end):
        score = score + p.transitions[tags[t - start - 1], tags[t - start]] \
            + p.emissions[row, t, tags[t - start]]
    return float(score - log_z[row])
