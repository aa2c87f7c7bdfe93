"""The EDF-style MLP from the notes — Affine, Relu, Sigmoid, Softmax, LogLoss as components — trained on digits.

EDF (the "educational deep framework") builds a network from components that
each know their forward and backward. Here every component is a small
``nn.Module`` whose forward is written with chainrule operations; the backward
passes come from the chain rule, so none is written by hand. The script trains
Affine → Relu → Affine → Relu → Affine → Softmax with LogLoss by mini-batch
SGD, checks that this composite loss equals the fused ``F.cross_entropy``, and
prints the test accuracy.

    python examples/edf_mlp.py            # 30 epochs
    python examples/edf_mlp.py --quick    # a few epochs, a few seconds
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.data import DataLoader, TensorDataset, load_digits  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402


class Affine(nn.Module):
    """EDF's Affine: ``x W + b`` with W of shape (in, out), as in the notes."""

    def __init__(self, n_in, n_out):
        super().__init__()
        bound = np.sqrt(6.0 / (n_in + n_out))  # Glorot, the notes' choice
        rng = cr.random.get_rng()
        self.W = nn.Parameter(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32))
        self.b = nn.Parameter(np.zeros(n_out, dtype=np.float32))

    def forward(self, x):
        return x @ self.W + self.b


class Relu(nn.Module):
    def forward(self, x):
        return cr.relu(x)  # max(x, 0), with relu'(0) = 0


class Sigmoid(nn.Module):
    def forward(self, x):
        return 1.0 / (1.0 + cr.exp(-x))


class Softmax(nn.Module):
    def forward(self, x):
        e = cr.exp(x - x.max(axis=1, keepdims=True).detach())  # shift for stability; the shift cancels out
        return e / e.sum(axis=1, keepdims=True)


class LogLoss(nn.Module):
    """Mean negative log-probability of the true class."""

    def forward(self, probs, labels):
        picked = probs[np.arange(len(labels)), labels]
        return -cr.log(picked).mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description="EDF-style MLP on the bundled digits")
    parser.add_argument("--quick", action="store_true", help="train briefly (for tests)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)
    epochs = args.epochs or (5 if args.quick else 30)

    cr.random.seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits()
    net = nn.Sequential(Affine(64, args.hidden), Relu(), Affine(args.hidden, args.hidden), Sigmoid(),
                        Affine(args.hidden, 10))
    softmax, logloss = Softmax(), LogLoss()
    opt = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True, seed=0)

    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = logloss(softmax(net(cr.tensor(xb))), yb)
            loss.backward()  # every component's backward, by the chain rule
            opt.step()
            total += loss.item() * len(yb)
        with cr.no_grad():
            acc = float((net(cr.tensor(x_test)).data.argmax(axis=1) == y_test).mean())
        print(f"epoch {epoch:2d}  train LogLoss {total / len(x_train):.4f}  test accuracy {100 * acc:.2f}%")

    # The composite Softmax + LogLoss is the fused, stabler cross-entropy:
    with cr.no_grad():
        logits = net(cr.tensor(x_test))
        composite = logloss(softmax(logits), y_test).item()
        fused = F.cross_entropy(logits, y_test).item()
    print(f"Softmax+LogLoss = {composite:.6f}, F.cross_entropy = {fused:.6f}")
    assert abs(composite - fused) < 1e-4 * max(1.0, fused)
    print(f"final test accuracy: {100 * acc:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
