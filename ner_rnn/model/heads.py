"""Output heads: tag potentials, a training loss, and how each decodes.

Both heads describe a sentence as linear-chain `Potentials` (see `decoding`), so Viterbi,
k-best and forward-backward serve both. Transitions the tag scheme forbids (IOB2:
`O -> I-X`, `B-X -> I-Y`; BIOES likewise) get NEG_INF when `constrain` is on, so no
decoder ever outputs an ill-formed sequence.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ner_rnn.data.schemes import allowed_transitions
from ner_rnn.model.constants import NEG_INF
from ner_rnn.model.decoding import Potentials, kbest, log_partition, sequence_score, viterbi


class _Head(nn.Module):
    """A linear projection to tag scores plus fixed penalties for forbidden transitions."""

    def __init__(self, input_size: int, labels: list[str], scheme: str, constrain: bool,
                 partition: str = "auto"):
        super().__init__()
        self.projection = nn.Linear(input_size, len(labels))
        self.constrained = constrain
        self.partition = partition  # log Z's algorithm: see decoding.log_partition
        allowed, may_start, may_end = allowed_transitions(labels, scheme)

        def penalty(rule: np.ndarray) -> torch.Tensor:
            table = torch.from_numpy(rule)  # bool, as built
            return torch.where(table | (not constrain), 0.0, NEG_INF)

        # rebuilt from labels and scheme, so kept out of the state_dict
        self.register_buffer("transition_penalty", penalty(allowed), persistent=False)
        self.register_buffer("start_penalty", penalty(may_start), persistent=False)
        self.register_buffer("end_penalty", penalty(may_end), persistent=False)

    def decode(self, p: Potentials, mask: torch.Tensor) -> torch.Tensor:
        """The best tag sequence of each sentence: long (batch, time), 0 on padding."""
        return viterbi(p, mask)[0]

    def kbest(self, p: Potentials, mask: torch.Tensor, k: int
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The k best tag sequences, best first: tags long (batch, k, time), scores float
        (batch, k), and valid bool (batch, k), False where a sentence has fewer than k
        sequences the scheme allows (those are padding: tags 0, score NEG_INF)."""
        paths, scores, valid = kbest(p, mask, k)
        valid &= self._allowed(paths, mask)
        return paths * valid.unsqueeze(2), torch.where(valid, scores, NEG_INF), valid

    def _allowed(self, paths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """bool (batch, k): the path of paths (batch, k, time) has no first tag, transition
        or last tag that the constraints forbid."""
        moves = self.transition_penalty[paths[..., :-1], paths[..., 1:]]  # (batch, k, time - 1)
        moves = torch.where(mask[:, None, 1:], moves, 0.0)
        last = (mask.sum(dim=1) - 1).view(-1, 1, 1).expand(-1, paths.size(1), 1)  # (batch, k, 1)
        ends = self.start_penalty[paths[..., 0]] + self.end_penalty[paths.gather(2, last)[..., 0]]
        return (moves.sum(dim=2) + ends) == 0  # penalties are 0, or NEG_INF when forbidden


class SoftmaxHead(_Head):
    """Per-token softmax; decoding is the best well-formed sequence of log-probabilities,
    or each token's best tag when unconstrained."""

    def potentials(self, features: torch.Tensor) -> Potentials:
        """features: float (batch, time, input) -> log-probabilities and penalties."""
        log_probs = F.log_softmax(self.projection(features), dim=-1)  # (batch, time, tags)
        return Potentials(log_probs, self.transition_penalty, self.start_penalty,
                          self.end_penalty)

    def decode(self, p: Potentials, mask: torch.Tensor) -> torch.Tensor:
        if self.constrained:
            return super().decode(p, mask)
        return p.emissions.argmax(dim=-1) * mask  # (batch, time): no transition matters

    def loss(self, p: Potentials, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over real tokens; padding never enters the loss.

        p: this head's potentials of the batch; tags: long (batch, time); mask: bool
        (batch, time).
        """
        return F.nll_loss(p.emissions[mask], tags[mask])  # log-probabilities of real tokens


class CRFHead(_Head):
    """Linear-chain CRF: emission scores plus learned start, end and transition scores.

    `transitions[i, j]` is the score of tag j following tag i.
    """

    def __init__(self, input_size: int, labels: list[str], scheme: str, constrain: bool,
                 partition: str = "auto"):
        super().__init__(input_size, labels, scheme, constrain, partition)
        self.transitions = nn.Parameter(torch.zeros(len(labels), len(labels)))  # (from, to)
        self.start = nn.Parameter(torch.zeros(len(labels)))
        self.end = nn.Parameter(torch.zeros(len(labels)))

    def potentials(self, features: torch.Tensor) -> Potentials:
        emissions = self.projection(features)  # (batch, time, tags)
        return Potentials(emissions, self.transitions + self.transition_penalty,
                          self.start + self.start_penalty, self.end + self.end_penalty)

    def loss(self, p: Potentials, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the gold sequences, per token (forward algorithm).

        p: this head's potentials of the batch; tags: long (batch, time); mask: bool
        (batch, time).
        """
        nll = log_partition(p, mask, self.partition) - sequence_score(p, tags, mask)  # (batch,)
        return nll.sum() / mask.sum()


def build_head(kind: str, input_size: int, labels: list[str], scheme: str,
               constrain: bool, partition: str = "auto") -> _Head:
    """The head named by `model.head.type`."""
    heads = {"softmax": SoftmaxHead, "crf": CRFHead}
    if kind not in heads:
        raise ValueError(f"unknown head type {kind!r}; expected one of: {', '.join(heads)}")
    return heads[kind](input_size, labels, scheme, constrain, partition)
