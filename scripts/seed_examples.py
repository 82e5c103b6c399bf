"""Print the lecture's two worked examples, step by step, computed by ner_rnn.model.cells.

    python scripts/seed_examples.py
"""

import torch

from ner_rnn.lecture_examples import (
    LSTM_INPUTS,
    RNN_INPUTS,
    RNN_OUTPUT_WEIGHTS,
    worked_lstm,
    worked_rnn,
)


def show_rnn(inputs: list[list[float]]) -> None:
    with torch.no_grad():
        states, _ = worked_rnn()(torch.tensor([inputs]))
    for t, (x, s) in enumerate(zip(inputs, states[0]), start=1):
        print(f"  t={t}  x={x}  S={s.tolist()}  O={(RNN_OUTPUT_WEIGHTS @ s).tolist()}")


def show_lstm() -> None:
    lstm, state = worked_lstm(), None
    with torch.no_grad():
        for t, x in enumerate(LSTM_INPUTS, start=1):
            out, state = lstm(torch.tensor([[x]]), state=state)
            print(f"  t={t}  x={[int(v) for v in x]!s:<11}  memory c={state[1].item():5.2f}  "
                  f"output y={out.item():5.2f}")


if __name__ == "__main__":
    print("RNN, every weight 1, no bias, linear: S_t = U·x_t + W·S_{t-1}, O_t = V·S_t")
    show_rnn(RNN_INPUTS)
    print("The same inputs in another order give other outputs:")
    show_rnn([RNN_INPUTS[0], RNN_INPUTS[2], RNN_INPUTS[1]])
    print("\nLSTM memory cell: Z = x1, Z_i = σ(100·x2 − 10), Z_f = σ(100·x2 + 10), "
          "Z_o = σ(100·x3 − 10); x2 = 1 writes, x2 = −1 erases, x3 = 1 reads")
    show_lstm()
