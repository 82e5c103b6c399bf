"""Parameter-free decoding over a linear chain: log-partition, Viterbi, k-best Viterbi,
forward-backward.

Every function takes the same potentials:
    emissions: float (batch, time, tags), score of each tag at each step;
    transitions: float (tags, tags), transitions[i, j] = score of moving from tag i to j;
    start, end: float (tags,), scores of the first and the last tag;
    mask: bool (batch, time), True on real steps; mask[:, 0] is all True.

Loops run over time only, a few ops per step on the whole batch; every sum over tags
is an exact log-sum-exp (shifted by its own maximum), at any scale of the scores.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ner_rnn.model.constants import MAX_NBEST, NEG_INF
from ner_rnn.model.steps import gather_steps, reverse_within_lengths

LOG2_E = 1.4426950408889634  # exp(x) = exp2(x * LOG2_E); torch's exp2 has no slow path for
# very negative x, where exp takes ten times longer (NEG_INF penalties are that)
CHAINS_MULTIPLE = 32  # the recursions' reductions over a chain dimension of a multiple
# of 32 vectorise fully on the CPU: a step takes 20 us at 64 chains, 33 at 70, 49 at 60
KBEST_BUDGET = 2**24  # k-best back-pointers (and candidates) held at once, in elements


class Potentials(NamedTuple):
    emissions: torch.Tensor  # float (batch, time, tags)
    transitions: torch.Tensor  # float (tags, tags), [from, to]
    start: torch.Tensor  # float (tags,)
    end: torch.Tensor  # float (tags,)


def _recursions(emissions: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                end: torch.Tensor, mask: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The forward recursion (alpha: prefix scores from the first tag on) and the backward
    one (beta: suffix scores from the end back) run together, as one batch of 2 * batch
    chains, so time - 1 steps of a few ops each do both. The backward chains read each
    sentence reversed within its own length, so both start at step 0 and no step needs
    a mask; what they compute past a sentence's end is never read. Idle chains round
    the count up to a multiple of CHAINS_MULTIPLE.

    Returns alpha (batch, time, tags), beta (batch, time, tags) in the backward chains'
    order (beta[b, r] belongs to step lengths[b] - 1 - r), the reversing index (batch *
    time,) and log Z (batch,).
    """
    batch, time, tags = emissions.shape
    lengths = mask.sum(dim=1)  # (batch,)
    backward_index = reverse_within_lengths(lengths, time)  # (batch * time,)
    reversed_emissions = gather_steps(emissions, backward_index)  # (batch, time, tags)
    # Step r of the forward chains: alpha_r[j] = lse_i(alpha_{r-1}[i] + transitions[i, j])
    # + emissions_r[j]; of the backward ones: beta_r[i] = lse_k(transitions[i, k] +
    # reversed_emissions_{r-1}[k] + beta_{r-1}[k]). Laid out (step, to, from, chain).
    scores = torch.cat([emissions, reversed_emissions]).permute(1, 2, 0).contiguous()
    idle = -2 * batch % CHAINS_MULTIPLE
    # autograd cannot follow `out=` and in-place steps: a tracked call builds new tensors
    tracked = torch.is_grad_enabled() and any(
        x.requires_grad for x in (emissions, transitions, start, end))
    forward_steps = transitions.T[None, :, :, None], scores[1:, :, None, :batch]
    backward_steps = transitions[None, :, :, None], scores[:-1, None, :, batch:]
    if tracked:
        steps = torch.cat([torch.add(*forward_steps), torch.add(*backward_steps),
                           emissions.new_zeros(time - 1, tags, tags, idle)], dim=3)
    else:
        steps = emissions.new_empty(time - 1, tags, tags, 2 * batch + idle)
        torch.add(*forward_steps, out=steps[..., :batch])
        torch.add(*backward_steps, out=steps[..., batch : 2 * batch])
        steps[..., 2 * batch :] = 0.0  # idle chains: finite, never read
    state = torch.cat([(start + emissions[:, 0]).T, end[:, None].expand(tags, batch),
                       emissions.new_zeros(tags, idle)], dim=1)  # (tags, chains)
    states = [state]
    for step in steps:
        state = _logsumexp(step + state if tracked else step.add_(state), dim=1)  # (to, chains)
        states.append(state)
    chains = torch.stack(states).permute(2, 0, 1)  # (chains, time, tags)
    alpha, beta = chains[:batch], chains[batch : 2 * batch]
    last = alpha.gather(1, (lengths - 1).view(batch, 1, 1).expand(batch, 1, tags))
    log_z = torch.logsumexp(last.squeeze(1) + end, dim=1)  # (batch,)
    return alpha, beta, backward_index, log_z


def _logsumexp(y: torch.Tensor, dim: int) -> torch.Tensor:
    """torch.logsumexp's value, exactly (the maximum of log_softmax is minus the log of
    the shifted sum). torch.logsumexp's exp takes ten times as long on arguments far
    below zero, such as NEG_INF penalties; log_softmax's kernel does not."""
    return y.amax(dim=dim) - torch.log_softmax(y, dim=dim).amax(dim=dim)


class _LogPartition(torch.autograd.Function):
    """log Z by `_recursions`, with the exact gradients written out: the tag marginals
    (emissions, start, end) and the transition marginals (transitions)."""

    @staticmethod
    def forward(ctx, emissions: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                end: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        alpha, beta, backward_index, log_z = _recursions(emissions, transitions, start, end,
                                                         mask)
        ctx.save_for_backward(emissions, transitions, mask, alpha, beta, backward_index, log_z)
        return log_z

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        emissions, transitions, mask, alpha, beta, backward_index, log_z = ctx.saved_tensors
        beta = gather_steps(beta, backward_index)  # (batch, time, tags), back in step order
        alpha = alpha - log_z[:, None, None]  # (batch, time, tags)
        marginal = torch.exp2((alpha + beta) * LOG2_E) * grad[:, None, None]
        marginal = torch.where(mask.unsqueeze(2), marginal, 0.0)  # (batch, time, tags)
        last = (mask.sum(dim=1) - 1).view(-1, 1, 1).expand(-1, 1, marginal.size(2))
        moved = mask[:, 1:]  # (batch, time - 1): the real transitions
        left = alpha[:, :-1][moved]  # (moves, tags)
        right = (emissions + beta)[:, 1:][moved]  # (moves, tags)
        pairs = torch.exp2((left[:, :, None] + right[:, None, :] + transitions) * LOG2_E)
        weights = grad[:, None].expand_as(moved)[moved]  # (moves,)
        moves = (weights @ pairs.flatten(1)).view_as(transitions)
        ends = marginal[:, 0].sum(0), marginal.gather(1, last).squeeze(1).sum(0)  # (tags,) each
        return marginal, moves, *ends, None


def _tree_log_partition(p: Potentials, mask: torch.Tensor) -> torch.Tensor:
    """log Z as a balanced tree of log-space matrix products: log2(time) sequential
    steps of tags^3 work each (see pytorch-struct's linear chain), for GPUs, where a
    launch costs more than the work. A step's right-hand matrix past a sentence's end
    leaves the left one as it is."""
    moves = p.transitions + p.emissions[:, 1:].unsqueeze(2)  # (batch, time - 1, from, to)
    real = mask[:, 1:]  # (batch, time - 1)
    while moves.size(1) > 1:
        if moves.size(1) % 2:  # the odd one out is paired with a copy of itself, not real
            moves = torch.cat([moves, moves[:, -1:]], dim=1)
            real = torch.cat([real, real.new_zeros(real.size(0), 1)], dim=1)
        left, right = moves[:, 0::2], moves[:, 1::2]  # (batch, pairs, tags, tags)
        joined = torch.logsumexp(left.unsqueeze(4) + right.unsqueeze(2), dim=3)
        moves = torch.where(real[:, 1::2, None, None], joined, left)  # (batch, pairs, ...)
        real = real[:, 0::2]
    alpha = p.start + p.emissions[:, 0]  # (batch, tags)
    if moves.size(1):
        moved = torch.logsumexp(alpha.unsqueeze(2) + moves[:, 0], dim=1)  # (batch, tags)
        alpha = torch.where(real[:, :1], moved, alpha)
    return torch.logsumexp(alpha + p.end, dim=1)


def log_partition(p: Potentials, mask: torch.Tensor, algorithm: str = "auto") -> torch.Tensor:
    """log Z: float (batch,), the log-sum of the scores of all tag sequences; exact at any
    scale. `algorithm` (`model.head.partition`): `tree`, a tree of matrix products (few
    launches: GPUs), or `recursion`, the forward recursion (tags times less work: CPUs);
    `auto` picks by the device of `p`."""
    if algorithm == "auto":
        algorithm = "tree" if p.emissions.is_cuda else "recursion"
    if algorithm == "tree":
        return _tree_log_partition(p, mask)
    return _LogPartition.apply(p.emissions, p.transitions, p.start, p.end, mask)


def marginals(p: Potentials, mask: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward-backward: alpha, beta (batch, time, tags) and log Z (batch,).

    alpha[b, t, j] is the log-sum of all prefixes ending in tag j at step t (emission
    included); beta[b, t, j] that of all suffixes after step t given tag j at t (end
    score included), so exp(alpha + beta - log Z) is P(tag j at t). Padded steps hold
    no meaning. Differentiable: inputs that require grad get gradients.
    """
    alpha, beta, backward_index, log_z = _recursions(*p, mask)
    return alpha, gather_steps(beta, backward_index), log_z


def sequence_score(p: Potentials, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Score of the given tag sequences: float (batch,). tags: long (batch, time)."""
    weights = mask.to(p.emissions.dtype)  # (batch, time)
    emitted = p.emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, time)
    moved = p.transitions[tags[:, :-1], tags[:, 1:]]  # (batch, time - 1)
    last = tags.gather(1, (mask.sum(dim=1, keepdim=True) - 1)).squeeze(1)  # (batch,)
    return (p.start[tags[:, 0]] + (emitted * weights).sum(1)
            + (moved * weights[:, 1:]).sum(1) + p.end[last])


def viterbi(p: Potentials, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Best tag sequence per sentence: long (batch, time), 0 on padding; and its score.

    The sentences are sorted longest first, so the ones still running at a step are a
    prefix of the batch and each step works on that prefix alone: a batch of short
    sentences and one long one costs little more than the short ones. A step keeps only
    the best scores (`amax`, twenty times faster than `max` with indices on the CPU);
    the path is followed back on the host from each sentence's own last step, finding
    each previous tag from the kept scores.
    """
    lengths = mask.sum(dim=1)  # (batch,)
    order = lengths.argsort(descending=True)  # (batch,)
    lengths = lengths[order]
    per_length = np.bincount(lengths.cpu().numpy(), minlength=mask.size(1) + 1)
    running = per_length[::-1].cumsum()[::-1][1:]  # [t]: sentences longer than t steps
    emissions = p.emissions[order].permute(1, 2, 0)  # (time, tags, batch), longest first
    score = p.start[:, None] + emissions[0]  # (tags, batch)
    moves = p.transitions.T.unsqueeze(2)  # (to, from, 1)
    kept = torch.zeros((len(emissions), *score.shape), dtype=score.dtype,
                       device=score.device)  # (time, tags, batch): best scores per step
    kept[0] = score
    ended = []  # scores of sentences as they end: the shortest first
    for t in range(1, int((running > 0).sum())):
        active = int(running[t])  # the sentences that run at step t: a prefix
        if active < score.size(1):
            ended.append(score[:, active:])
            score = score[:, :active]
        score = (score + moves).amax(dim=1) + emissions[t, :, :active]  # (tags, active)
        kept[t, :, :active] = score
    ended.append(score)
    final = torch.cat(ended[::-1], dim=1)  # (tags, batch), longest first
    total, tag = (final + p.end[:, None]).max(dim=0)  # (batch,)
    path = _backtrack(kept, p.transitions, tag, lengths)
    unsort = order.argsort()  # (batch,)
    return path[unsort], total[unsort]


def _backtrack(kept: torch.Tensor, transitions: torch.Tensor, last: torch.Tensor,
               lengths: torch.Tensor) -> torch.Tensor:
    """Follow each sentence back from its last tag (batch,) at its last step, on the
    host: the tag before `tag` at step t is the one with the best kept score at t - 1
    (float (time, tags, batch)) plus its move to `tag`. Returns long (batch, time), 0 on
    padding, on `last`'s device."""
    tags, lengths = last.cpu().numpy(), lengths.cpu().numpy()
    kept, transitions = kept.detach().cpu().numpy(), transitions.detach().cpu().numpy()
    time = len(kept)
    path = np.zeros((time, tags.size), dtype=np.int64)  # (time, batch)
    current = np.zeros_like(tags)
    for t in range(time - 1, -1, -1):
        current = np.where(lengths - 1 == t, tags, current)  # a sentence's path starts
        path[t] = np.where(t < lengths, current, 0)
        if t:
            current = (kept[t - 1] + transitions[:, current]).argmax(axis=0)  # (batch,)
    return torch.from_numpy(path.T.copy()).to(last.device)


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
