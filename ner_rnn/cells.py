"""The lecture's recurrent layers, interchangeable with torch's fused modules.

    from ner_rnn.cells import SimpleRNN, LSTM, GRU, Stack
    outputs, state = LSTM(3, 1)(x)          # x: (batch, time, input)

See `ner_rnn.model.cells` for the equations and `ner_rnn.model.convert` for moving
weights between these layers and torch.nn.RNN / LSTM / GRU.
"""

from ner_rnn.model.cells import GRU, LSTM, SimpleRNN, Stack
from ner_rnn.model.convert import cell_to_torch, torch_to_cell

__all__ = ["GRU", "LSTM", "SimpleRNN", "Stack", "cell_to_torch", "torch_to_cell"]
