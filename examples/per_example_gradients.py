"""Per-example gradients: ``cr.vmap(cr.grad(loss))`` gives one gradient per sample, in one call.

A small MLP is trained briefly on the bundled 8x8 digits. ``loss(params, x, y)``
is the loss of ONE sample, written with ``cr.func.functional_call`` so that the
parameters are an argument; ``cr.grad`` differentiates it with respect to them
and ``cr.vmap(..., in_axes=(None, 0, 0))`` maps it over the batch (shared
parameters, one row of x and one label per sample). The script prints each
sample's gradient norm, checks that the mean of the per-example gradients is the
batch gradient from ``backward()``, and lists the samples with the largest norms:
the ones the model finds hardest.

    python examples/per_example_gradients.py            # 300 training steps, 256 samples
    python examples/per_example_gradients.py --quick    # 40 steps, 64 samples, a few seconds
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402


def train(model, X, y, steps, rng):
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        idx = rng.integers(0, len(X), 64)
        opt.zero_grad()
        F.cross_entropy(model(cr.tensor(X[idx])), cr.tensor(y[idx])).backward()
        opt.step()


def main(argv=None):
    parser = argparse.ArgumentParser(description="per-example gradients with vmap(grad(loss))")
    parser.add_argument("--quick", action="store_true", help="train briefly on a small batch (for tests)")
    args = parser.parse_args(argv)
    steps, batch = (40, 64) if args.quick else (300, 256)

    cr.random.seed(0)
    rng = np.random.default_rng(0)
    (X_train, y_train), (X_test, y_test) = cr.data.load_digits()
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    train(model, X_train, y_train, steps, rng)

    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(params, x, label):
        # One sample: x (64,) and an integer label; the model wants a batch, so add a leading axis of 1.
        logits = cr.func.functional_call(model, params, (x.reshape(1, 64),))
        return F.cross_entropy(logits, label.reshape(1))

    X, y = cr.tensor(X_test[:batch]), cr.tensor(y_test[:batch])
    per_example = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, X, y)  # each value: (batch, *param.shape)
    for name, g in per_example.items():
        print(f"{name:10s} parameter {tuple(params[name].shape)} -> per-example gradients {tuple(g.shape)}")

    # ||g_i|| over all parameters together: the square root of the summed squares of every piece.
    sq = sum((g.numpy().reshape(batch, -1) ** 2).sum(axis=1) for g in per_example.values())
    norms = np.sqrt(sq)
    print("\ngradient norm of the first samples:")
    for i in range(5):
        print(f"  sample {i}: label {int(y_test[i])}, gradient norm {norms[i]:.4f}")

    # The batch loss is the mean of the per-sample losses, so its gradient is the mean of theirs.
    model.zero_grad()
    F.cross_entropy(model(X), y).backward()
    same = all(np.allclose(per_example[name].numpy().mean(axis=0), p.grad.numpy(), atol=1e-6, rtol=1e-4)
               for name, p in model.named_parameters())
    print(f"\nper-example mean equals the batch gradient: {same}")

    probs = F.softmax(model(X), axis=1).numpy()
    pred = probs.argmax(axis=1)
    print("\nlargest gradient norms (the hardest samples):")
    for i in np.argsort(norms)[::-1][:5]:
        print(f"  sample {i:3d}: label {int(y_test[i])}, predicted {pred[i]} "
              f"(p(label) = {probs[i, y_test[i]]:.3f}), gradient norm {norms[i]:.4f}")
    print(f"median gradient norm {np.median(norms):.4f}; accuracy on these {batch} samples "
          f"{(pred == y_test[:batch]).mean():.3f}")


if __name__ == "__main__":
    main()
