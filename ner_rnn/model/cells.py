"""Recurrent layers written from the lecture's equations (NNDL / Hung-yi Lee).

Batch-first layers whose parameters carry the notes' names:

    SimpleRNN   S_t = f(U·x_t + W·S_{t-1} + b),  S_0 = 0
    LSTM        Z   = g(W_z·[x_t, h_{t-1}] + b_z)     input to the memory cell
                Z_i = σ(W_i·[x_t, h_{t-1}] + b_i)     input gate
                Z_f = σ(W_f·[x_t, h_{t-1}] + b_f)     forget gate
                Z_o = σ(W_o·[x_t, h_{t-1}] + b_o)     output gate
                c_t = Z ⊙ Z_i + c_{t-1} ⊙ Z_f,   h_t = h(c_t) ⊙ Z_o
    GRU         torch's definition (reset gate r, update gate z, candidate n)

Each layer is called as `outputs, state = layer(x, state=None, lengths=None)` with x
float (batch, time, input); outputs (batch, time, hidden) are zero on padded steps, and
padded steps never update the state, so `state` is the state after each sequence's own
last step. For speed, the input part of every gate is computed for all time steps in one
matrix product, and each step does one product with the previous hidden state.

    from ner_rnn.model.cells import SimpleRNN, LSTM, GRU, Stack
    outputs, state = LSTM(3, 1)(x)          # x: (batch, time, input)

`cell_to_torch` and `torch_to_cell` (from `ner_rnn.model.convert`) move weights between
these layers and torch.nn.RNN / LSTM / GRU.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ner_rnn.model.convert import cell_to_torch, torch_to_cell
from ner_rnn.model.steps import gather_steps, reverse_within_lengths, step_mask

__all__ = ["GRU", "LSTM", "SimpleRNN", "Stack", "cell_to_torch", "torch_to_cell"]

ACTIVATIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class _Recurrent(nn.Module):
    """The loop over time; subclasses define `prepare` (the input projection for every
    step at once, and the recurrent weights) and `step`."""

    hidden_size: int

    def reset_parameters(self) -> None:
        """Uniform in ±1/sqrt(hidden), as torch initialises its recurrent layers."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, x: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """x: float (batch, time, input); lengths: long (batch,) or None."""
        projected, recurrent = self.prepare(x)  # (batch, time, gates * hidden), weights
        state = self.initial_state(x) if state is None else state
        mask = step_mask(x, lengths)  # (batch, time, 1) or None
        outputs = []
        for t in range(x.size(1)):
            new_state = self.step(projected[:, t], state, recurrent)
            if mask is not None:  # padded steps keep the old state and output zeros
                keep = mask[:, t]  # (batch, 1)
                new_state = self.select(keep, new_state, state)
            state = new_state
            output = self.output(state)  # (batch, hidden)
            outputs.append(output if mask is None else output * mask[:, t])
        if not outputs:
            return x.new_zeros(x.size(0), 0, self.hidden_size), state
        return torch.stack(outputs, dim=1), state  # (batch, time, hidden)

    def initial_state(self, x: torch.Tensor):
        return x.new_zeros(x.size(0), self.hidden_size)  # (batch, hidden)

    @staticmethod
    def select(keep: torch.Tensor, new, old):
        return torch.where(keep, new, old)

    @staticmethod
    def output(state):
        return state


class SimpleRNN(_Recurrent):
    """Elman RNN: S_t = f(U·x_t + W·S_{t-1} + b). Parameters U (hidden × input),
    W (hidden × hidden), b (hidden; absent when bias=False)."""

    def __init__(self, input_size: int, hidden_size: int, activation: str = "tanh",
                 bias: bool = True):
        super().__init__()
        self.input_size, self.hidden_size, self.activation = input_size, hidden_size, activation
        self.f = _activation(activation)
        self.U = nn.Parameter(torch.empty(hidden_size, input_size))
        self.W = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b = nn.Parameter(torch.empty(hidden_size)) if bias else None
        self.reset_parameters()

    def prepare(self, x: torch.Tensor):
        """U·x_t (+ b) for every t at once: (batch, time, hidden); and W."""
        projected = x @ self.U.T  # (batch, time, hidden)
        return (projected if self.b is None else projected + self.b), self.W

    def step(self, projected: torch.Tensor, state: torch.Tensor, W: torch.Tensor):
        return self.f(projected + state @ W.T)  # (batch, hidden)


class LSTM(_Recurrent):
    """The lecture's LSTM. Parameters W_z, W_i, W_f, W_o (hidden × (input + hidden)) act
    on [x_t, h_{t-1}]; b_z, b_i, b_f, b_o (hidden). The state is (h, c)."""

    GATES = ("z", "i", "f", "o")

    def __init__(self, input_size: int, hidden_size: int, cell_activation: str = "tanh",
                 output_activation: str = "tanh"):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.cell_activation, self.output_activation = cell_activation, output_activation
        self.g, self.h = _activation(cell_activation), _activation(output_activation)
        for gate in self.GATES:
            setattr(self, f"W_{gate}", nn.Parameter(torch.empty(hidden_size,
                                                                input_size + hidden_size)))
            setattr(self, f"b_{gate}", nn.Parameter(torch.empty(hidden_size)))
        self.reset_parameters()

    def prepare(self, x: torch.Tensor):
        """The x_t part of all four gates for every t: (batch, time, 4 * hidden); and the
        h_{t-1} part of the weights, (4 * hidden, hidden)."""
        stacked = torch.cat([self.W_z, self.W_i, self.W_f, self.W_o])  # (4 * hidden, in + hidden)
        bias = torch.cat([self.b_z, self.b_i, self.b_f, self.b_o])  # (4 * hidden,)
        projected = x @ stacked[:, : self.input_size].T + bias  # (batch, time, 4 * hidden)
        return projected, stacked[:, self.input_size :]

    def step(self, projected: torch.Tensor, state, recurrent: torch.Tensor):
        h, c = state
        gates = projected + h @ recurrent.T  # (batch, 4 * hidden): one product per step
        z, z_i, z_f, z_o = gates.chunk(4, dim=1)  # each (batch, hidden)
        c = self.g(z) * torch.sigmoid(z_i) + c * torch.sigmoid(z_f)
        return self.h(c) * torch.sigmoid(z_o), c

    def initial_state(self, x: torch.Tensor):
        zeros = x.new_zeros(x.size(0), self.hidden_size)  # (batch, hidden)
        return zeros, zeros

    @staticmethod
    def select(keep: torch.Tensor, new, old):
        return torch.where(keep, new[0], old[0]), torch.where(keep, new[1], old[1])

    @staticmethod
    def output(state):
        return state[0]


class GRU(_Recurrent):
    """torch's GRU: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise,
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h."""

    GATES = ("r", "z", "n")

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        for gate in self.GATES:
            setattr(self, f"W_i{gate}", nn.Parameter(torch.empty(hidden_size, input_size)))
            setattr(self, f"W_h{gate}", nn.Parameter(torch.empty(hidden_size, hidden_size)))
            setattr(self, f"b_i{gate}", nn.Parameter(torch.empty(hidden_size)))
            setattr(self, f"b_h{gate}", nn.Parameter(torch.empty(hidden_size)))
        self.reset_parameters()

    def prepare(self, x: torch.Tensor):
        """The input part of r, z, n for every t: (batch, time, 3 * hidden); and the
        hidden part's weights (3 * hidden, hidden) and bias (3 * hidden,)."""
        weights = torch.cat([self.W_ir, self.W_iz, self.W_in])  # (3 * hidden, input)
        bias = torch.cat([self.b_ir, self.b_iz, self.b_in])  # (3 * hidden,)
        recurrent = (torch.cat([self.W_hr, self.W_hz, self.W_hn]),
                     torch.cat([self.b_hr, self.b_hz, self.b_hn]))
        return x @ weights.T + bias, recurrent

    def step(self, projected: torch.Tensor, h: torch.Tensor, recurrent) -> torch.Tensor:
        weights, bias = recurrent
        hidden = h @ weights.T + bias  # (batch, 3 * hidden)
        x_r, x_z, x_n = projected.chunk(3, dim=1)
        h_r, h_z, h_n = hidden.chunk(3, dim=1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return (1 - z) * n + z * h


class Stack(nn.Module):
    """Multi-layer, optionally bidirectional stack of one layer type, like torch.nn.LSTM.

    `layers[i][0]` reads left to right; `layers[i][1]` reads each sequence reversed
    within its own length. Returns `(outputs, states)`: outputs (batch, time, hidden *
    directions), and the final states stacked as (layers * directions, batch, hidden) in
    torch's order (a tuple (h_n, c_n) for LSTM).
    """

    def __init__(self, make_layer, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float | nn.Module = 0.0):
        super().__init__()
        directions = 2 if bidirectional else 1
        # between layers: a probability, as in torch, or a dropout module of the caller's
        self.dropout = dropout if isinstance(dropout, nn.Module) else nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            nn.ModuleList(make_layer(input_size if i == 0 else hidden_size * directions,
                                     hidden_size) for _ in range(directions))
            for i in range(num_layers)
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        if lengths is None:
            lengths = torch.full((x.size(0),), x.size(1), dtype=torch.long, device=x.device)
        backward_index = reverse_within_lengths(lengths.to(x.device), x.size(1))
        states = []
        for depth, directions in enumerate(self.layers):
            if depth > 0:
                x = self.dropout(x)
            forward_out, forward_state = directions[0](x, lengths=lengths)
            outputs, states = [forward_out], states + [forward_state]
            if len(directions) == 2:
                out, state = directions[1](gather_steps(x, backward_index), lengths=lengths)
                outputs.append(gather_steps(out, backward_index))
                states.append(state)
            x = torch.cat(outputs, dim=-1)  # (batch, time, hidden * directions)
        if any(s is None for s in states):  # fused torch layers do not report states
            return x, None
        if isinstance(states[0], tuple):
            return x, (torch.stack([s[0] for s in states]), torch.stack([s[1] for s in states]))
        return x, torch.stack(states)
