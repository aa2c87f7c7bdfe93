"""Row 9: the peak memory rise of forward + backward of a 32-layer, 1024-wide tanh MLP at batch 256 (float32).

Each column runs in a fresh process (``python -m <this module> COLUMN SIZE``), so that what one library
keeps cached never counts against another. The parameters exist before measuring; after a small warm-up
pass (lazy imports, kernel caches), the peak resident set is reset (``/proc/self/clear_refs``) and the rise
of its high-water mark over the pass is the number: the one measure that sees every allocator, PyTorch's
and XLA's included. glibc's mmap threshold is fixed at 128 KiB in those processes (``MALLOC_MMAP_THRESHOLD_``),
so every block of 128 KiB or more goes back to the system when freed and the resident set follows the live
bytes: with glibc's sliding threshold, PyTorch's rise came out 68 or 191 MiB from one run to the next.
JAX's column is XLA's own count for the compiled step (outputs and temporaries), as its pass runs in pages
its compiler touched and freed, where the resident set shows only about 15 MiB.
Each process also prints the loss and gradient norms, which must match NumPy's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc

import numpy as np

__all__ = ["SIZES", "measure", "peak_rise"]

SIZES = {"full": (32, 1024, 256), "quick": (32, 1024, 256), "tiny": (3, 8, 4)}  # (layers, width, batch)
MIB = 1 / 2**20


def _params(layers, width, batch):
    rng = np.random.default_rng(0)
    Ws = [(rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32) for _ in range(layers)]
    bs = [np.zeros(width, np.float32) for _ in range(layers)]
    return Ws, bs, rng.standard_normal((batch, width)).astype(np.float32)


def _numpy_pass(Ws, bs, x):
    hs = [x]
    for W, b in zip(Ws, bs):
        hs.append(np.tanh(hs[-1] @ W + b))
    loss = hs[-1].sum()
    g = np.ones_like(hs[-1])
    grads = [None] * (2 * len(Ws))
    for i in range(len(Ws) - 1, -1, -1):
        gz = g * (1 - hs[i + 1] * hs[i + 1])  # d/dz tanh z = 1 - tanh² z
        hs[i + 1] = None  # free what the backward pass no longer needs
        grads[2 * i], grads[2 * i + 1] = hs[i].T @ gz, gz.sum(axis=0)
        g = gz @ Ws[i].T
    return loss, grads


def _pass(col, Ws, bs):
    """``run(x) -> (loss, [dW0, db0, ...])`` of column ``col``, its parameters made before it is called."""
    if col == "numpy":
        return lambda x: _numpy_pass(Ws, bs, x)
    if col == "eager":
        import chainrule as cr

        leaves = [cr.tensor(a, requires_grad=True) for pair in zip(Ws, bs) for a in pair]

        def run(x):
            h = cr.tensor(x)
            for k in range(0, len(leaves), 2):
                h = cr.tanh(h @ leaves[k] + leaves[k + 1])
            loss = h.sum()
            del h
            loss.backward()
            grads = [p.grad for p in leaves]
            for p in leaves:
                p.grad = None
            return loss, grads

        return run
    if col == "torch":
        import torch

        torch.set_num_threads(1)
        leaves = [torch.tensor(a, requires_grad=True) for pair in zip(Ws, bs) for a in pair]

        def run(x):
            h = torch.from_numpy(x)
            for k in range(0, len(leaves), 2):
                h = torch.tanh(h @ leaves[k] + leaves[k + 1])
            loss = h.sum()
            del h
            loss.backward()
            grads = [p.grad for p in leaves]
            for p in leaves:
                p.grad = None
            return loss, grads

        return run
    if col == "jax":
        import jax
        import jax.numpy as jnp

        def loss_fn(params, x):
            h = x
            for k in range(0, len(params), 2):
                h = jnp.tanh(h @ params[k] + params[k + 1])
            return h.sum()

        params = [jnp.asarray(a) for pair in zip(Ws, bs) for a in pair]
        step = jax.jit(jax.value_and_grad(loss_fn))
        compiled = {}

        def run(x):
            if x.shape not in compiled:
                compiled[x.shape] = step.lower(params, x).compile()
                stats = compiled[x.shape].memory_analysis()
                # NOTE: XLA runs in pages its compiler used and freed, which the resident set cannot see
                # rise again: its own count of what one call allocates is the number for this column
                run.xla_bytes = stats.output_size_in_bytes + stats.temp_size_in_bytes
            return jax.block_until_ready(compiled[x.shape](params, x))

        return run
    if col == "autograd":
        import autograd
        import autograd.numpy as anp

        def loss_fn(params, x):
            h = x
            for k in range(0, len(params), 2):
                h = anp.tanh(h @ params[k] + params[k + 1])
            return anp.sum(h)

        vg = autograd.value_and_grad(loss_fn)
        params = [a for pair in zip(Ws, bs) for a in pair]
        return lambda x: vg(params, x)
    raise ValueError(f"memory: no column {col!r}")


def _status(field):
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise OSError(field)


def peak_rise(col, size):
    """``(MiB, fingerprint)``: the peak memory rise of one pass of ``col`` and its loss and gradient norms.

    >>> mib, (loss, *norms) = peak_rise("numpy", "tiny")
    >>> mib >= 0 and len(norms) == 3
    True
    """
    layers, width, batch = SIZES[size]
    Ws, bs, x = _params(layers, width, batch)
    run = _pass(col, Ws, bs)
    run(x[:1])  # warm up: lazy imports and caches are not what the pass keeps
    if col == "jax":
        loss, grads = run(x)
        rise = run.xla_bytes
    else:
        loss, grads, rise = _measured(run, x)
    grads = [np.asarray(g.detach().numpy() if hasattr(g, "detach") else getattr(g, "data", g)) for g in grads]
    norms = [float(np.linalg.norm(grads[k])) for k in (0, 1, len(grads) - 2)]
    loss = loss.detach().numpy() if hasattr(loss, "detach") else getattr(loss, "data", loss)
    return rise * MIB, [float(np.asarray(loss)), *norms]


def _measured(run, x):
    """``run(x)``'s loss, gradients and peak memory rise in bytes."""
    try:
        before = _status("VmRSS")
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # resets VmHWM, the peak resident set, to the current one
        loss, grads = run(x)
        rise = _status("VmHWM") - before
    except OSError:  # no /proc: tracemalloc sees NumPy's allocations, not other allocators'
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        loss, grads = run(x)
        rise = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return loss, grads, rise


def measure(cols, size, *, in_process=False):
    """``({column: MiB}, {column: error})``, each column in its own process (or this one, for the tests),
    its fingerprint checked against NumPy's (rtol 1e-3: float32 sums in different orders)."""
    results, errors = {}, {}
    for col in cols:
        if col == "jit":
            continue  # no trace-and-replay row: the tape's memory is what this row measures
        try:
            if in_process:
                results[col] = peak_rise(col, size)
            else:
                out = subprocess.run([sys.executable, "-m", __name__, col, size], capture_output=True, text=True,
                                     env=dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072"), check=False,
                                     timeout=600)
                if out.returncode:
                    raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed")
                results[col] = tuple(json.loads(out.stdout.strip().splitlines()[-1]))
        except Exception as e:  # noqa: BLE001 - reported in the table, and the command fails
            errors[col] = f"{type(e).__name__}: {e}"
    if "numpy" not in results:
        raise RuntimeError(f"memory: the NumPy baseline failed: {errors.get('numpy')}")
    reference = np.array(results["numpy"][1])
    values = {}
    for col, (mib, fingerprint) in results.items():
        if not np.allclose(fingerprint, reference, rtol=1e-3, atol=1e-6):
            errors[col] = f"Mismatch: memory / {col}: loss and gradient norms {fingerprint} against NumPy's " \
                          f"{reference.tolist()}"
        else:
            values[col] = mib
    return values, errors


if __name__ == "__main__":
    print(json.dumps(peak_rise(sys.argv[1], sys.argv[2])))
