"""Output heads: tag potentials for decoding, and a training loss.

Both heads describe a sentence as linear-chain `Potentials` (see `decoding`), so Viterbi,
k-best and forward-backward serve both. Transitions the tag scheme forbids (IOB2:
`O -> I-X`, `B-X -> I-Y`; BIOES likewise) get NEG_INF when `constrain` is on, so no
decoder ever outputs an ill-formed sequence.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ner_rnn.data.schemes import allowed_transitions
from ner_rnn.model.decoding import NEG_INF, Potentials, log_partition, sequence_score


class _Head(nn.Module):
    """A linear projection to tag scores plus fixed penalties for forbidden transitions."""

    def __init__(self, input_size: int, labels: list[str], scheme: str, constrain: bool):
        super().__init__()
        self.projection = nn.Linear(input_size, len(labels))
        self.constrained = constrain
        allowed, may_start, may_end = allowed_transitions(labels, scheme)

        def penalty(rule: list) -> torch.Tensor:
            table = torch.tensor(rule, dtype=torch.bool)
            return torch.where(table | (not constrain), 0.0, NEG_INF)

        # rebuilt from labels and scheme, so kept out of the state_dict
        self.register_buffer("transition_penalty", penalty(allowed), persistent=False)
        self.register_buffer("start_penalty", penalty(may_start), persistent=False)
        self.register_buffer("end_penalty", penalty(may_end), persistent=False)


class SoftmaxHead(_Head):
    """Per-token softmax; decoding is the best well-formed sequence of log-probabilities."""

    def potentials(self, features: torch.Tensor) -> Potentials:
        """features: float (batch, time, input) -> log-probabilities and penalties."""
        log_probs = F.log_softmax(self.projection(features), dim=-1)  # (batch, time, tags)
        return Potentials(log_probs, self.transition_penalty, self.start_penalty,
                          self.end_penalty)

    def loss(self, features: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over real tokens; padding never enters the loss.

        features: float (batch, time, input); tags: long (batch, time); mask: bool (batch, time).
        """
        scores = self.projection(features[mask])  # (tokens, tags): real tokens only
        return F.cross_entropy(scores, tags[mask])


class CRFHead(_Head):
    """Linear-chain CRF: emission scores plus learned start, end and transition scores.

    `transitions[i, j]` is the score of tag j following tag i.
    """

    def __init__(self, input_size: int, labels: list[str], scheme: str, constrain: bool):
        super().__init__(input_size, labels, scheme, constrain)
        self.transitions = nn.Parameter(torch.zeros(len(labels), len(labels)))  # (from, to)
        self.start = nn.Parameter(torch.zeros(len(labels)))
        self.end = nn.Parameter(torch.zeros(len(labels)))

    def potentials(self, features: torch.Tensor) -> Potentials:
        emissions = self.projection(features)  # (batch, time, tags)
        return Potentials(emissions, self.transitions + self.transition_penalty,
                          self.start + self.start_penalty, self.end + self.end_penalty)

    def loss(self, features: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the gold sequences, per token (forward algorithm)."""
        p = self.potentials(features)
        nll = log_partition(p, mask) - sequence_score(p, tags, mask)  # (batch,)
        return nll.sum() / mask.sum()


def build_head(kind: str, input_size: int, labels: list[str], scheme: str,
               constrain: bool) -> _Head:
    """The head named by `model.head.type`."""
    heads = {"softmax": SoftmaxHead, "crf": CRFHead}
    if kind not in heads:
        raise ValueError(f"unknown head type {kind!r}; expected one of: {', '.join(heads)}")
    return heads[kind](input_size, labels, scheme, constrain)
