"""hvp vs grad: forward-over-reverse Hessian-vector product of f(x) = Σ tanh(W x), n = 2000, float64.

Run: python benchmarks/bench_hvp.py [--n 2000] [--repeat 30]
Prints the median time of grad and of hvp, measured in the same run, and their ratio (target <= 1.6;
JAX measured 1.5, PyTorch 3.5), next to the same two computations written by hand in NumPy. One BLAS
thread keeps the timing stable on a throttled VM.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import chainrule as cr
from chainrule.transforms import grad, hvp


def _median_time(fn, repeat):
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=30)
    a = p.parse_args(argv)
    rng = np.random.default_rng(0)
    W = cr.tensor(rng.standard_normal((a.n, a.n)) / np.sqrt(a.n))
    x = rng.standard_normal(a.n)
    v = rng.standard_normal(a.n)

    def f(x):
        return cr.tanh(W @ x).sum()

    g = grad(f)
    Wd = W.data

    def grad_by_hand(x):  # ∇f = Wᵀ (1 - tanh²(Wx)): two passes over W
        t = np.tanh(Wd @ x)
        return Wd.T @ (1 - t * t)

    def hvp_by_hand(x, v):  # also H v = Wᵀ (-2 tanh (1 - tanh²) ⊙ W v): four passes over W
        t = np.tanh(Wd @ x)
        d = 1 - t * t
        return Wd.T @ d, Wd.T @ (-2 * t * d * (Wd @ v))

    # interleave the measurements so that throttling affects them alike
    tg, th, ng, nh = [], [], [], []
    k = a.repeat // 3 or 1
    for _ in range(3):
        tg.append(_median_time(lambda: g(x), k))
        th.append(_median_time(lambda: hvp(f, (x,), (v,)), k))
        ng.append(_median_time(lambda: grad_by_hand(x), k))
        nh.append(_median_time(lambda: hvp_by_hand(x, v), k))
    tg, th, ng, nh = (statistics.median(t) for t in (tg, th, ng, nh))
    # check the answer once: H v = Wᵀ diag(-2 tanh(Wx) (1 - tanh²(Wx))) W v
    t = np.tanh(W.data @ x)
    ref = W.data.T @ (-2 * t * (1 - t * t) * (W.data @ v))
    _, (hv,) = hvp(f, (x,), (v,))
    assert np.allclose(hv, ref), "hvp disagrees with the closed form"
    print(f"n = {a.n}: grad {tg * 1e3:.2f} ms, hvp {th * 1e3:.2f} ms, hvp/grad = {th / tg:.2f} (target <= 1.6)")
    print(f"  NumPy by hand, same formulas: grad {ng * 1e3:.2f} ms, hvp {nh * 1e3:.2f} ms, ratio {nh / ng:.2f} "
          f"(4 matrix-vector products against 2: the floor without fusing W·x with W·v)")
    return th / tg


if __name__ == "__main__":
    main()
