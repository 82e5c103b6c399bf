"""Several trained taggers of one architecture and vocabularies, tagging as one."""

from __future__ import annotations

import torch
from torch import nn

from ner_rnn.data.batching import Batch
from ner_rnn.model.decoding import Potentials
from ner_rnn.model.network import TaggerNetwork, best_paths


class EnsembleNetwork(nn.Module):
    """Members (the same config and vocabularies, trained with different seeds) whose
    potentials are averaged: the decoders then find the tag sequence best on average,
    the normalised product of the members' distributions, each to the power 1/N. The
    scheme's NEG_INF penalties, the same in every member, stay as they are."""

    def __init__(self, members: list[TaggerNetwork]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    @property
    def head(self) -> nn.Module:
        """The members' head, for decoding: heads differ in weights, not in how they decode."""
        return self.members[0].head

    def potentials(self, batch: Batch) -> Potentials:
        """The members' potentials averaged: emissions float (batch, time, tags)."""
        each = [member.potentials(batch) for member in self.members]
        return Potentials(*(torch.stack(field).mean(dim=0) for field in zip(*each)))

    def decode(self, batch: Batch) -> list[list[int]]:
        """Best tag ids per sentence, each trimmed to its length."""
        return best_paths(self.head, self.potentials(batch), batch)
