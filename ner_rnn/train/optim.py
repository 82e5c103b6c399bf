"""Optimisers for a tagger whose word embeddings have sparse gradients, and clipping.

A batch touches a few hundred of the tens of thousands of word vectors; a sparse
gradient updates only those rows. SGD handles sparse gradients itself; Adam and AdamW
leave the embeddings to `torch.optim.SparseAdam` (lazy Adam: rows not in the batch keep
their moments; no weight decay on them) and update everything else with fused kernels.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ner_rnn.config import TrainConfig


class Optimizer:
    """One or two torch optimisers behind the interface the training loop needs."""

    def __init__(self, network: nn.Module, config: TrainConfig):
        sparse = [m.weight for m in network.modules()
                  if isinstance(m, nn.Embedding) and m.sparse and m.weight.requires_grad]
        sparse_ids = {id(p) for p in sparse}
        dense = [p for p in network.parameters() if p.requires_grad and id(p) not in sparse_ids]
        if config.optimizer == "sgd":
            self.parts = [torch.optim.SGD(dense + sparse, lr=config.lr, momentum=config.momentum,
                                          weight_decay=config.weight_decay)]
            return
        dense_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        self.parts = [dense_class(dense, lr=config.lr, weight_decay=config.weight_decay,
                                  fused=True)]
        if sparse:
            self.parts.append(torch.optim.SparseAdam(sparse, lr=config.lr))

    @property
    def param_groups(self) -> list[dict]:
        return [group for part in self.parts for group in part.param_groups]

    def zero_grad(self) -> None:
        for part in self.parts:
            part.zero_grad(set_to_none=True)

    def step(self) -> None:
        for part in self.parts:
            part.step()

    def state_dict(self) -> dict:
        return {"parts": [part.state_dict() for part in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        """Restore a saved state; ValueError when it belongs to other parameters (torch
        itself checks only the number of parameters, and a wrong shape would fail at the
        first step)."""
        for part, part_state in zip(self.parts, state["parts"], strict=True):
            part.load_state_dict(part_state)
            for parameter in (p for group in part.param_groups for p in group["params"]):
                for name, value in part.state.get(parameter, {}).items():
                    if isinstance(value, torch.Tensor) and value.dim() > 0 \
                            and value.shape != parameter.shape:
                        raise ValueError(f"optimiser state {name} has shape "
                                         f"{tuple(value.shape)}, expected "
                                         f"{tuple(parameter.shape)}")


def clip_gradients(parameters, max_norm: float | None) -> float:
    """Scale gradients (dense or sparse) so their global L2 norm is at most `max_norm`;
    returns the norm before clipping."""
    grads = [p.grad for p in parameters if p.grad is not None]
    squares = [(g.coalesce().values() if g.is_sparse else g).pow(2).sum() for g in grads]
    norm = math.sqrt(float(torch.stack(squares).sum())) if squares else 0.0
    if max_norm is not None and norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads:
            g.mul_(scale)
    return norm
