"""hvp vs grad: forward-over-reverse Hessian-vector product of f(x) = Σ tanh(W x), n = 2000, float64 and float32.

Run: python benchmarks/bench_hvp.py [--n 2000] [--repeat 30]
Prints the median time of grad and of hvp, measured in the same run, and their ratio (target <= 1.6;
JAX measured 1.5, PyTorch 3.5), next to the same two computations written by hand in NumPy (four
separate matrix-vector products against two: ratio 2) and, when JAX is installed, JAX's own ratio
in the same run. hvp reads W once for W·x and W·v (and once for Wᵀ·ḡ and its tangent): see
matmul's fused_jvp in chainrule/ops/products.py -- where this machine's BLAS makes that pay, which
chainrule measures once and the benchmark reports; where it does not (an AMD EPYC VM here), the
floor is the unfused ratio of 2, and JAX's jit measured 1.8-1.9 on the same machine. One BLAS
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


def _paired(fns, repeat):
    """Per function, the median time; per function after the first, the median ratio to the first.

    The functions run back to back in each of ``repeat`` rounds (in alternating order), so a
    throttling burst of this VM slows a round's pair alike and the ratios stay steady.
    """
    for fn in fns:
        fn()  # warm up
    times = [[] for _ in fns]
    for r in range(repeat):
        order = range(len(fns)) if r % 2 else reversed(range(len(fns)))
        for i in order:
            t0 = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t0)
    medians = [statistics.median(t) for t in times]
    ratios = [statistics.median(b / a for a, b in zip(times[0], t)) for t in times[1:]]
    return medians, ratios


def measure(n, dtype, repeat):
    """Median seconds of grad and hvp (and the same formulas by hand in NumPy) at size n, in one dtype."""
    rng = np.random.default_rng(0)
    W = cr.tensor((rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype))
    x = rng.standard_normal(n).astype(dtype)
    v = rng.standard_normal(n).astype(dtype)

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

    # check the answer once, against float64: H v = Wᵀ diag(-2 tanh(Wx) (1 - tanh²(Wx))) W v
    _, (hv,) = hvp(f, (x,), (v,))
    W64 = Wd.astype(np.float64)
    t = np.tanh(W64 @ x)
    ref = W64.T @ (-2 * t * (1 - t * t) * (W64 @ v))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert hv.dtype == dtype and np.abs(hv - ref).max() <= tol * np.abs(ref).max(), "hvp is wrong"
    (tg, th), (r,) = _paired([lambda: g(x), lambda: hvp(f, (x,), (v,))], repeat)
    (ng, nh), (nr,) = _paired([lambda: grad_by_hand(x), lambda: hvp_by_hand(x, v)], repeat)
    return tg, th, r, ng, nh, nr


def jax_ratio(n, dtype, repeat):
    """JAX's hvp/grad (jax.jvp of jax.grad, jit-compiled) on the same problem, if JAX is installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", dtype == np.float64)
    rng = np.random.default_rng(0)
    W = jnp.asarray((rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype))
    x = jnp.asarray(rng.standard_normal(n).astype(dtype))
    v = jnp.asarray(rng.standard_normal(n).astype(dtype))
    g = jax.jit(jax.grad(lambda x: jnp.tanh(W @ x).sum()))
    h = jax.jit(lambda x, v: jax.jvp(g, (x,), (v,)))
    _, (r,) = _paired([lambda: jax.block_until_ready(g(x)), lambda: jax.block_until_ready(h(x, v))], repeat)
    return r


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=60)
    a = p.parse_args(argv)
    ratios = {}
    for dtype in (np.float64, np.float32):
        tg, th, r, ng, nh, nr = measure(a.n, dtype, a.repeat)
        ratios[np.dtype(dtype).name] = r
        print(f"n = {a.n}, {np.dtype(dtype).name}: grad {tg * 1e3:.2f} ms, hvp {th * 1e3:.2f} ms, "
              f"hvp/grad = {r:.2f} (median of paired runs; target <= 1.6)")
        print(f"  NumPy by hand, same formulas: grad {ng * 1e3:.2f} ms, hvp {nh * 1e3:.2f} ms, ratio {nr:.2f} "
              f"(4 matrix-vector products against 2, unfused)")
        from chainrule.ops import matmul_fusion

        pays = {k: v for (k, c), v in matmul_fusion._FUSE_PAYS.items() if c == np.dtype(dtype).char}
        decided = ", ".join(f"{k.strip('_')} {'used' if v else 'not used (slower than two products here)'}"
                            for k, v in sorted(pays.items()))
        print(f"  one pass over W for W·x and W·v: {decided or 'not tried (W is below 2 MiB)'}")
        jr = jax_ratio(a.n, dtype, a.repeat)
        if jr is not None:
            print(f"  JAX (jit), same run: hvp/grad = {jr:.2f}")
    return ratios


if __name__ == "__main__":
    main()
