"""Weights between torch's fused recurrent modules and the lecture's cells, both ways.

torch keeps one layer direction as `weight_ih` (gates × hidden, input), `weight_hh`
(gates × hidden, hidden), `bias_ih` and `bias_hh`, gates in the order i, f, g, o (LSTM)
or r, z, n (GRU). Converting to cells and back preserves what the layer computes
exactly; only the split of a bias between `bias_ih` and `bias_hh` (they add) may change.
"""

from __future__ import annotations

import re

import torch

TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_TORCH_LSTM_ORDER = ("i", "f", "z", "o")  # torch's i, f, g, o; the notes call g's input Z


def torch_to_cell(kind: str, weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One direction of one torch layer ({weight_ih, weight_hh, bias_ih, bias_hh}) as the
    parameters of the matching cell (`SimpleRNN`, `LSTM` or `GRU`)."""
    w_ih, w_hh, b_ih, b_hh = (weights[name] for name in TORCH_NAMES)
    if kind == "rnn":
        return {"U": w_ih, "W": w_hh, "b": b_ih + b_hh}
    if kind == "lstm":
        chunks = zip(_TORCH_LSTM_ORDER, w_ih.chunk(4), w_hh.chunk(4), b_ih.chunk(4), b_hh.chunk(4))
        cell = {}
        for gate, wi, wh, bi, bh in chunks:
            cell[f"W_{gate}"] = torch.cat([wi, wh], dim=1)  # acts on [x_t, h_{t-1}]
            cell[f"b_{gate}"] = bi + bh
        return cell
    cell = {}
    for gate, wi, wh, bi, bh in zip("rzn", w_ih.chunk(3), w_hh.chunk(3), b_ih.chunk(3),
                                    b_hh.chunk(3)):
        cell.update({f"W_i{gate}": wi, f"W_h{gate}": wh, f"b_i{gate}": bi, f"b_h{gate}": bh})
    return cell


def cell_to_torch(kind: str, cell: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of `torch_to_cell`: a cell's parameters as torch's four tensors."""
    if kind == "rnn":
        return {"weight_ih": cell["U"], "weight_hh": cell["W"], "bias_ih": cell["b"],
                "bias_hh": torch.zeros_like(cell["b"])}
    if kind == "lstm":
        hidden = cell["W_i"].size(0)
        inputs = cell["W_i"].size(1) - hidden
        stacked = torch.cat([cell[f"W_{g}"] for g in _TORCH_LSTM_ORDER])  # (4h, in + h)
        bias = torch.cat([cell[f"b_{g}"] for g in _TORCH_LSTM_ORDER])
        return {"weight_ih": stacked[:, :inputs], "weight_hh": stacked[:, inputs:],
                "bias_ih": bias, "bias_hh": torch.zeros_like(bias)}
    return {"weight_ih": torch.cat([cell[f"W_i{g}"] for g in "rzn"]),
            "weight_hh": torch.cat([cell[f"W_h{g}"] for g in "rzn"]),
            "bias_ih": torch.cat([cell[f"b_i{g}"] for g in "rzn"]),
            "bias_hh": torch.cat([cell[f"b_h{g}"] for g in "rzn"])}


_LAYER = re.compile(r"^(encoder\.stack\.layers\.\d+\.\d+\.)(?:fused\.)?(\w+?)(?:_l0)?$")


def convert_encoder(state: dict[str, torch.Tensor], kind: str, target: str
                    ) -> dict[str, torch.Tensor]:
    """A tagger's state_dict with its encoder's weights rewritten for `target`
    (`torch` or `native`); every other entry is kept as it is."""
    converted, layers = {}, {}
    for name, tensor in state.items():
        match = _LAYER.match(name)
        if match:
            layers.setdefault(match.group(1), {})[match.group(2)] = tensor
        else:
            converted[name] = tensor
    for prefix, weights in layers.items():
        from_torch = "weight_ih" in weights
        if from_torch == (target == "torch"):
            new = weights
        else:
            new = torch_to_cell(kind, weights) if from_torch else cell_to_torch(kind, weights)
        for name, tensor in new.items():
            key = f"{prefix}fused.{name}_l0" if target == "torch" else prefix + name
            converted[key] = tensor.clone()
    return converted
