"""A character-level RNN with the notes' cell h_t = tanh(W_h h_(t-1) + W_x x_t + b), trained by backprop through time.

The cell is written out as in the notes (x_t one-hot, W_x of shape (H, V)),
unrolled over windows of the text; ``backward()`` does backpropagation through
time. After training, the same weights are loaded into ``nn.RNN`` to show it
computes the same hidden states, and the model completes a prompt greedily.

    python examples/rnn_sequence.py            # 400 steps
    python examples/rnn_sequence.py --quick    # 60 steps, a few seconds
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

TEXT = (
    "backpropagation is the chain rule with caching. the forward pass keeps what the backward pass needs, "
    "and the backward pass sends each gradient to the values that made it. "
) * 4


class CharRNN(nn.Module):
    """h_t = tanh(W_h h_(t-1) + W_x x_t + b);  y_t = W_y h_t + c (logits over the next character)."""

    def __init__(self, vocab, hidden):
        super().__init__()
        rng = cr.random.get_rng()
        bound = 1 / np.sqrt(hidden)
        self.W_x = nn.Parameter(rng.uniform(-bound, bound, (hidden, vocab)).astype(np.float32))
        self.W_h = nn.Parameter(rng.uniform(-bound, bound, (hidden, hidden)).astype(np.float32))
        self.b = nn.Parameter(np.zeros(hidden, dtype=np.float32))
        self.out = nn.Linear(hidden, vocab)
        self.vocab, self.hidden = vocab, hidden

    def forward(self, ids, h=None):
        """ids (T, B) of character ids -> logits (T, B, V) and the last hidden state (B, H)."""
        steps, batch = ids.shape
        if h is None:
            h = cr.zeros((batch, self.hidden), dtype=np.float32)
        onehot = np.eye(self.vocab, dtype=np.float32)[ids]  # x_t as one-hot rows
        states = []
        for t in range(steps):
            h = cr.tanh(h @ self.W_h.T + onehot[t] @ self.W_x.T + self.b)  # the notes' cell, batched
            states.append(h)
        return self.out(cr.stack(states)), h


def batches(ids, seq_len, batch, rng):
    starts = rng.integers(0, len(ids) - seq_len - 1, batch)
    window = np.stack([ids[s : s + seq_len + 1] for s in starts], axis=1)  # (T+1, B)
    return window[:-1], window[1:]


def main(argv=None):
    parser = argparse.ArgumentParser(description="character-level RNN with the notes' tanh cell")
    parser.add_argument("--quick", action="store_true", help="train briefly (for tests)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args(argv)
    steps = args.steps or (60 if args.quick else 400)

    chars = sorted(set(TEXT))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in TEXT])
    cr.random.seed(0)
    model = CharRNN(len(chars), args.hidden)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    first = None
    for step in range(1, steps + 1):
        x, y = batches(ids, 24, 16, rng)
        opt.zero_grad()
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        loss.backward()  # backpropagation through time
        opt.step()
        first = first if first is not None else loss.item()
        if step % max(steps // 6, 1) == 0 or step == 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  (uniform guess: {np.log(len(chars)):.3f})")
    assert loss.item() < first, "training did not reduce the loss"

    # nn.RNN with the same weights computes the same hidden states
    rnn = nn.RNN(len(chars), args.hidden)
    rnn.load_state_dict({"weight_ih_l0": model.W_x.data, "weight_hh_l0": model.W_h.data,
                         "bias_ih_l0": model.b.data, "bias_hh_l0": np.zeros(args.hidden, np.float32)})
    x, _ = batches(ids, 10, 2, rng)
    with cr.no_grad():
        _, h_cell = model(x)
        _, h_rnn = rnn(cr.tensor(np.eye(len(chars), dtype=np.float32)[x]))
    print(f"nn.RNN agrees with the hand-written cell: {np.allclose(h_cell.data, h_rnn.data[0], atol=1e-5)}")

    prompt = "backprop"
    with cr.no_grad():
        logits, h = model(np.array([[index[c]] for c in prompt]))
        out = prompt
        nxt = int(logits.data[-1, 0].argmax())
        for _ in range(60):
            out += chars[nxt]
            logits, h = model(np.array([[nxt]]), h)
            nxt = int(logits.data[-1, 0].argmax())
    print(f"greedy completion: {out!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
