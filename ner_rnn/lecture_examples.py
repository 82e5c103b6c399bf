"""The lecture's two worked examples, built from `ner_rnn.model.cells` (used by
scripts/seed_examples.py and the tests)."""

import torch

from ner_rnn.model.cells import LSTM, SimpleRNN

RNN_INPUTS = [[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]
RNN_OUTPUT_WEIGHTS = torch.ones(2, 2)  # V: O_t = V·S_t
LSTM_INPUTS = [[float(v) for v in x] for x in ([1, 0, 0], [3, 1, 0], [2, 0, 0], [4, 1, 0],
                                              [2, 0, 0], [1, 0, 1], [3, -1, 0], [6, 1, 0],
                                              [1, 0, 1])]
LSTM_OUTPUTS = [0.0, 0, 0, 0, 0, 7, 0, 0, 6]


def worked_rnn() -> SimpleRNN:
    """2 inputs, 2 hidden units, every weight 1, no bias, linear activation."""
    rnn = SimpleRNN(2, 2, activation="linear", bias=False)
    with torch.no_grad():
        rnn.U.fill_(1.0)
        rnn.W.fill_(1.0)
    return rnn


def worked_lstm() -> LSTM:
    """One memory cell: Z = x1, Z_i = σ(100·x2 − 10), Z_f = σ(100·x2 + 10),
    Z_o = σ(100·x3 − 10); g and h linear; no weights from h_{t-1}."""
    lstm = LSTM(3, 1, cell_activation="linear", output_activation="linear")
    with torch.no_grad():
        for parameter in lstm.parameters():
            parameter.zero_()
        lstm.W_z[0, 0] = 1.0  # Z = x1
        lstm.W_i[0, 1], lstm.b_i[0] = 100.0, -10.0  # x2 = 1 opens the input gate
        lstm.W_f[0, 1], lstm.b_f[0] = 100.0, 10.0  # x2 = -1 closes the forget gate
        lstm.W_o[0, 2], lstm.b_o[0] = 100.0, -10.0  # x3 = 1 opens the output gate
    return lstm
