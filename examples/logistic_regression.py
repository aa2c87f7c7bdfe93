"""Logistic regression with the λ‖w‖² regulariser, by gradient descent — digits 3 versus 8.

The loss is the mean binary cross-entropy of σ(x·w + b) plus λ‖w‖²; its
gradient comes from ``backward()``. The script trains one model per λ and shows
the trade-off (a larger λ gives a smaller ‖w‖). It also checks that the
regulariser is SGD's ``weight_decay``: ∇(λ‖w‖²) = 2λw, so plain SGD on the
regularised loss and ``SGD(weight_decay=2λ)`` on the data loss take the same steps.

    python examples/logistic_regression.py            # 300 steps per λ
    python examples/logistic_regression.py --quick    # 60 steps
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import optim  # noqa: E402
from chainrule.data import load_digits  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402


def two_digits(a=3, b=8):
    (xtr, ytr), (xte, yte) = load_digits()
    keep_tr, keep_te = np.isin(ytr, (a, b)), np.isin(yte, (a, b))
    return ((xtr[keep_tr], (ytr[keep_tr] == b).astype(np.float32)),
            (xte[keep_te], (yte[keep_te] == b).astype(np.float32)))


def fit(x, y, lam, steps, lr, weight_decay_form=False):
    """Full-batch gradient descent from zero weights; returns (w, b)."""
    w = cr.zeros(x.shape[1], dtype=np.float32, requires_grad=True)
    b = cr.zeros((), dtype=np.float32, requires_grad=True)
    if weight_decay_form:  # the regulariser as SGD's weight decay on w (not on the bias)
        opt = optim.SGD([{"params": [w], "weight_decay": 2 * lam}, {"params": [b]}], lr=lr)
    else:
        opt = optim.SGD([w, b], lr=lr)
    xt, yt = cr.tensor(x), cr.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(xt @ w + b, yt)
        if not weight_decay_form:
            loss = loss + lam * (w * w).sum()  # λ‖w‖²
        loss.backward()
        opt.step()
    return w, b


def accuracy(x, y, w, b):
    return float((((x @ w.data + b.data) > 0) == (y > 0.5)).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description="L2-regularised logistic regression on digits 3 vs 8")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args(argv)
    steps = 60 if args.quick else 300
    (xtr, ytr), (xte, yte) = two_digits()
    print(f"{len(xtr)} training and {len(xte)} test images of 3s and 8s, {steps} steps of gradient descent")
    print("      λ     ‖w‖   train acc   test acc")
    for lam in (0.0, 1e-3, 1e-2, 1e-1):
        w, b = fit(xtr, ytr, lam, steps, args.lr)
        print(f"{lam:7.0e}  {float(np.linalg.norm(w.data)):6.3f}   {100 * accuracy(xtr, ytr, w, b):7.2f}%"
              f"   {100 * accuracy(xte, yte, w, b):7.2f}%")

    lam = 1e-2
    w1, b1 = fit(xtr, ytr, lam, 20, args.lr)
    w2, b2 = fit(xtr, ytr, lam, 20, args.lr, weight_decay_form=True)
    same = np.allclose(w1.data, w2.data, rtol=1e-5, atol=1e-6) and np.allclose(b1.data, b2.data, atol=1e-6)
    print(f"λ‖w‖² in the loss == SGD(weight_decay=2λ): {same}")
    assert same and w1.dtype == np.float32
    return 0


if __name__ == "__main__":
    sys.exit(main())
