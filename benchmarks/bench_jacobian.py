"""Jacobians of f(x) = tanh(W2 tanh(W1 x)): R^10 -> R^2000 by forward mode, R^2000 -> R^10 by reverse mode.

Run: python benchmarks/bench_jacobian.py [--rounds 15] [--hidden 32] [--json]
Each Jacobian is timed against the same Jacobian written by hand in NumPy by the chain rule,
J = diag(1 - y²) W2 diag(1 - h²) W1 (h = tanh(W1 x), y = tanh(W2 h)), in interleaved rounds;
the numbers are medians over rounds (each round the best of a few calls), the ratios medians of
per-round ratios. Target: both ratios <= 2 (issue 14). Every result is checked against the hand
Jacobian first. One BLAS thread and malloc kept from unmapping freed blocks (training_step.pin_malloc,
as bench_mlp) keep the timing stable on a throttled VM.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule.transforms import jacfwd, jacrev  # noqa: E402
from training_step import pin_malloc  # noqa: E402 - benchmarks/training_step.py, beside this script


def problem(n_in, n_out, hidden, seed=0):
    """``(f, by_hand, x)``: the function on chainrule values, its Jacobian by hand, and a point."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    W2 = rng.standard_normal((n_out, hidden)) / np.sqrt(hidden)
    x = rng.standard_normal(n_in)
    T1, T2 = cr.tensor(W1), cr.tensor(W2)

    def f(x):
        return cr.tanh(T2 @ cr.tanh(T1 @ x))

    def by_hand(x):
        h = np.tanh(W1 @ x)
        y = np.tanh(W2 @ h)
        return (1 - y * y)[:, None] * (W2 @ ((1 - h * h)[:, None] * W1))

    return f, by_hand, x


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def paired(fns, rounds, repeats):
    """Median seconds per function and, for each after the first, the median per-round ratio to the first."""
    for fn in fns:
        fn()  # warm up
    times = [[] for _ in fns]
    for r in range(rounds):
        order = range(len(fns)) if r % 2 else reversed(range(len(fns)))
        for i in order:
            times[i].append(_best(fns[i], repeats))
    return [statistics.median(t) for t in times], [statistics.median(b / a for a, b in zip(times[0], t))
                                                   for t in times[1:]]


def run(rounds=15, repeats=5, hidden=32):
    pin_malloc()  # the 160 KB temporaries of both sides come from the heap, not from fresh pages each call
    out = {"benchmark": "jacobian", "hidden": hidden, "target_ratio": 2.0}
    for name, (n_in, n_out), jac in (("forward", (10, 2000), jacfwd), ("reverse", (2000, 10), jacrev)):
        f, by_hand, x = problem(n_in, n_out, hidden)
        J = jac(f)
        ref = by_hand(x)
        got = J(x)
        assert got.shape == (n_out, n_in) and np.allclose(got, ref, rtol=1e-10, atol=1e-12), f"{name} is wrong"
        auto = np.asarray(cr.jacobian(f)(x))
        assert np.allclose(auto, ref, rtol=1e-10, atol=1e-12), f"jacobian (auto) is wrong for {name}"
        (t_hand, t_cr, t_auto), (ratio, ratio_auto) = paired(
            [lambda x=x, h=by_hand: h(x), lambda x=x, J=J: J(x), lambda x=x, f=f: cr.jacobian(f)(x)], rounds, repeats)
        out[name] = {"shape": [n_out, n_in], "by_hand_ms": t_hand * 1e3, "chainrule_ms": t_cr * 1e3,
                     "jacobian_auto_ms": t_auto * 1e3, "ratio": ratio, "ratio_auto": ratio_auto}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    r = run(a.rounds, hidden=a.hidden)
    if a.json:
        print(json.dumps(r))
        return r
    print(f"f(x) = tanh(W2 tanh(W1 x)), hidden {a.hidden}, float64; median of {a.rounds} interleaved rounds")
    for name, how in (("forward", "jacfwd"), ("reverse", "jacrev")):
        m = r[name]
        n_out, n_in = m["shape"]
        print(f"  R^{n_in} -> R^{n_out}, {how}: NumPy by hand {m['by_hand_ms']:.3f} ms, chainrule "
              f"{m['chainrule_ms']:.3f} ms, ratio {m['ratio']:.2f}x (cr.jacobian auto {m['ratio_auto']:.2f}x; "
              f"target <= 2)")
    return r


if __name__ == "__main__":
    main()
