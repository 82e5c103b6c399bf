"""Optimisers for a tagger whose word embeddings may have sparse gradients, and clipping.

On a CPU, a batch touches a few hundred of the tens of thousands of word vectors and a
sparse gradient updates only those rows: far cheaper than a dense step over the whole
table. Adam and AdamW then leave the embeddings to `LazyAdam` (torch's SparseAdam
update: rows not in the batch keep their moments) and update everything else with
fused kernels; SGD handles sparse gradients itself. Weight decay never applies to sparse rows.
On a GPU sparse updates do not pay (a dense fused step is one launch, SparseAdam a dozen
and most of a step's GPU time), so there every parameter, the word vectors included,
gets dense gradients and one fused optimiser, weight decay included: numerically not
the CPU's lazy update. `train.embedding_gradients` says which; `auto` is resolved by
device when training starts and saved with the model.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ner_rnn.config import TrainConfig


def embedding_gradients(device: torch.device) -> str:
    """`train.embedding_gradients` for `auto` on `device`: sparse on a CPU, else dense."""
    return "sparse" if device.type == "cpu" else "dense"


class Optimizer:
    """One or two torch optimisers behind the interface the training loop needs."""

    def __init__(self, network: nn.Module, config: TrainConfig):
        gradients = config.embedding_gradients
        if gradients == "auto":  # see the module's docstring
            gradients = embedding_gradients(next(network.parameters()).device)
        embeddings = [m for m in network.modules() if isinstance(m, nn.Embedding) and m.sparse]
        for embedding in embeddings:
            embedding.sparse = gradients == "sparse"
        sparse = [m.weight for m in embeddings if m.sparse and m.weight.requires_grad]
        sparse_ids = {id(p) for p in sparse}
        dense = [p for p in network.parameters() if p.requires_grad and id(p) not in sparse_ids]
        if config.optimizer == "sgd":
            groups = [{"params": dense}] + ([{"params": sparse, "weight_decay": 0.0}]
                                            if sparse else [])
            self.parts = [torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum,
                                          weight_decay=config.weight_decay)]
            return
        dense_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        self.parts = [dense_class(dense, lr=config.lr, weight_decay=config.weight_decay,
                                  fused=True)]
        if sparse:
            self.parts.append(LazyAdam(sparse, lr=config.lr))

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


class LazyAdam(torch.optim.Optimizer):
    """Adam for sparse gradients as `torch.optim.SparseAdam` computes it (only the rows a
    step's gradient touches change, moments included), in half the time and half the
    ops: the touched rows of the moments are read, updated and written back by index.
    Its state has SparseAdam's layout, so either loads the other's."""

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": False})

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.coalesce()  # free when clipping coalesced it
                rows, values = grad._indices()[0], grad._values()  # (touched,), (touched, dim)
                state = self.state[param]
                if not state:
                    state.update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(param),
                                 exp_avg_sq=torch.zeros_like(param))
                state["step"] += 1
                step = state["step"].item()
                exp_avg = state["exp_avg"].index_select(0, rows).lerp_(values, 1 - beta1)
                exp_avg_sq = state["exp_avg_sq"].index_select(0, rows).lerp_(values.square(),
                                                                             1 - beta2)
                state["exp_avg"].index_copy_(0, rows, exp_avg)
                state["exp_avg_sq"].index_copy_(0, rows, exp_avg_sq)
                step_size = group["lr"] * math.sqrt(1 - beta2**step) / (1 - beta1**step)
                update = exp_avg.div_(exp_avg_sq.sqrt_().add_(group["eps"]))  # (touched, dim)
                param.index_add_(0, rows, update, alpha=-step_size)


def clip_gradients(parameters, max_norm: float | None) -> torch.Tensor:
    """Scale gradients (dense or sparse) so their global L2 norm is at most `max_norm`;
    returns the norm before clipping, a 0-dim tensor (reading it waits for the device).

    Sparse gradients are coalesced in place (duplicate rows summed), which their norm
    needs and the optimiser would do anyway. Dense ones are measured and scaled with
    one foreach op each, whatever their number.
    """
    with_grad = [p for p in parameters if p.grad is not None]
    for p in with_grad:
        if p.grad.is_sparse:
            p.grad = p.grad.coalesce()
    dense = [p.grad for p in with_grad if not p.grad.is_sparse]
    values = [p.grad._values() for p in with_grad if p.grad.is_sparse]
    if not dense + values:
        return torch.zeros(())
    norms = [*(torch._foreach_norm(dense) if dense else ()), *(v.norm() for v in values)]
    norm = torch.linalg.vector_norm(torch.stack(norms))  # (): the root of all squares
    if max_norm is not None:
        scale = torch.where(norm > max_norm, max_norm / (norm + 1e-6), 1.0)  # 1.0 leaves them be
        torch._foreach_mul_(dense + values, scale)
    return norm
