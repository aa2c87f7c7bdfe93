"""One training step of a chainrule model timed against the same step written by hand in NumPy.

Shared by bench_mlp.py and bench_cnn.py: both sides run on the same data in the same process,
are first checked to agree, then alternate in rounds so that CPU throttling hits both alike.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import chainrule as cr
from chainrule import optim
from chainrule.nn import functional as F


def pin_malloc():
    """Keep glibc from mapping and unmapping every multi-MB temporary (both sides alike), for stable timings.

    Without this the first side to free a large block moves malloc's mmap
    threshold for the other, and a step's time swings by 2x between runs.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to pin
        pass


def make_models(make_model, reference, lr, seed=0):
    """``(model, optimizer, reference)``: a seeded chainrule model with SGD, and its NumPy twin holding a copy
    of its weights (``reference(arrays)``, with ``step(x, y)`` and the weights in ``p``)."""
    cr.random.seed(seed)
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=lr)
    return model, opt, reference([p.data for p in model.parameters()])


def softmax_cross_entropy(z, y):
    """The mean softmax cross-entropy of logits ``z`` against labels ``y``, and its gradient, by hand in NumPy."""
    n = z.shape[0]
    zs = z - z.max(axis=1, keepdims=True)
    e = np.exp(zs)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = (np.log(s[:, 0]) - zs[rows, y]).mean()
    dz = e / s
    dz[rows, y] -= 1
    dz *= 1.0 / n
    return loss, dz


def chainrule_step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def check_same(models, make_data, seed=0):
    """Both implementations agree on the loss and the updated weights over a few steps."""
    model, opt, ref = models(seed)
    x, y = make_data(seed)
    xt = cr.tensor(x)
    for _ in range(3):
        a = chainrule_step(model, opt, xt, y).item()
        b = float(ref.step(x, y))
        assert abs(a - b) <= 1e-5 * max(1.0, abs(b)), (a, b)
    for p, q in zip(model.parameters(), ref.p):
        assert p.dtype == np.float32 and np.allclose(p.data, q, atol=1e-5), "weights diverged"


def timeit(fn, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def run(name, target, models, make_data, steps, rounds, seed=0):
    """Median-of-rounds milliseconds per step for both sides, and the median of their paired ratios.

    ``models(seed)`` gives ``(model, optimizer, reference)`` (see ``make_models``);
    ``make_data(seed)`` gives NumPy arrays ``(x, y)``.
    """
    pin_malloc()
    check_same(models, make_data, seed)
    model, opt, ref = models(seed)
    x, y = make_data(seed)
    xt = cr.tensor(x)
    ours = lambda: chainrule_step(model, opt, xt, y)  # noqa: E731
    base = lambda: ref.step(x, y)  # noqa: E731
    for _ in range(10):  # warm up: caches, malloc's thresholds
        ours()
        base()
    t_ours, t_base = [], []
    for r in range(rounds):  # alternate who goes first: throttling then favours neither
        if r % 2:
            t_ours.append(timeit(ours, steps))
            t_base.append(timeit(base, steps))
        else:
            t_base.append(timeit(base, steps))
            t_ours.append(timeit(ours, steps))
    mb, mo = float(np.median(t_base)), float(np.median(t_ours))
    # each round's pair ran back to back, so the median of the paired ratios is the most robust number
    ratios = sorted(o / b for o, b in zip(t_ours, t_base))
    return {"benchmark": name, "numpy_ms": mb * 1e3, "chainrule_ms": mo * 1e3, "ratio": float(np.median(ratios)),
            "ratio_min": ratios[0], "ratio_max": ratios[-1], "target": target, "steps": steps, "rounds": rounds}


def main(argv, *, description, title, name, target, make_model, reference, lr, make_data, steps):
    """Parse ``--steps``, ``--rounds`` and ``--json``, time the step (``run``) and print the result."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    models = lambda seed: make_models(make_model, reference, lr, seed)  # noqa: E731
    r = run(name, target, models, make_data, args.steps, args.rounds)
    if args.json:
        print(json.dumps(r))
    else:
        print(title)
        print(f"  NumPy by hand : {r['numpy_ms']:.3f} ms")
        print(f"  chainrule     : {r['chainrule_ms']:.3f} ms")
        print(f"  ratio         : {r['ratio']:.3f}  (median of paired rounds; range "
              f"{r['ratio_min']:.3f}-{r['ratio_max']:.3f}; target <= {r['target']:.2f})")
    return 0
