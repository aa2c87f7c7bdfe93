"""The table's machinery: rows and columns, the correctness check, interleaved timing, the table and its JSON."""

from __future__ import annotations

import importlib
import os
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

import chainrule as cr

__all__ = ["COLUMNS", "Case", "Mismatch", "Row", "available", "check", "machine", "measure_row", "pin_malloc", "render",
           "twice"]

# column key -> heading; "numpy" is the baseline every ratio divides by
COLUMNS = {
    "numpy": "NumPy by hand",
    "eager": "chainrule eager",
    "jit": "chainrule jit",
    "torch": "PyTorch eager",
    "jax": "JAX jit",
    "autograd": "HIPS autograd",
}
# how much of a cell's time one round spends, by mode (seconds), and how many rounds
BUDGET = {"tiny": (1e-9, 1), "quick": (0.08, 3), "full": (0.25, 9)}


def _listed(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def twice(fn, **timed):
    """The ``Case`` of a pure function: time ``fn`` (and the other ``timed`` calls); the check calls ``fn`` twice
    (a jit column traces, then replays) and gives all its results.

    >>> twice(lambda: (1.0, 2.0)).check()
    [1.0, 2.0, 1.0, 2.0]
    """
    return Case({"step": fn, **timed}, lambda: [*_listed(fn()), *_listed(fn())])


class Mismatch(AssertionError):
    """A column's numbers differ from the hand-written NumPy result of the same workload."""


@dataclass
class Case:
    """One column of one row: the calls to time (name -> zero-argument callable) and the numbers to check.

    ``check()`` runs the workload as a check needs it (a training step twice: trace and replay) and returns
    a list of arrays that must match the NumPy column's list.
    """

    timed: dict[str, Callable]
    check: Callable[[], list]


@dataclass
class Row:
    """A workload: ``build(column, size)`` gives that column's ``Case`` (or None where it does not apply).

    ``unit`` says what a cell shows: ``"ratio"`` (time over NumPy's time, NumPy's own cell in ms),
    ``"us/op"`` (absolute microseconds per op), ``"hvp/grad"`` (a column's own hvp time over its grad time),
    ``"MiB"`` (peak memory rise).
    """

    key: str
    label: str
    unit: str
    build: Callable
    rtol: float = 1e-5
    atol: float = 1e-6
    ops: dict = None  # size -> the ops one call runs, for "us/op"


def _importable(name):
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a broken install counts as absent
        return False
    return True


def available():
    """The columns this interpreter can fill: NumPy and eager always, the others when their library loads."""
    cols = ["numpy", "eager"]
    if hasattr(cr, "jit"):
        cols.append("jit")
    for name in ("torch", "jax", "autograd"):
        if _importable(name):
            cols.append(name)
    if "torch" in cols:
        import torch

        torch.set_num_threads(1)
    if "jax" in cols:
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 rows stay float64; float32 inputs stay float32
    return cols


def _as_arrays(values):
    out = []
    for v in values:
        if hasattr(v, "detach"):  # a torch tensor
            v = v.detach().numpy()
        elif hasattr(v, "data") and isinstance(v.data, np.ndarray):  # a chainrule Tensor
            v = v.data
        out.append(np.asarray(v))
    return out


def check(row, col, case, reference):
    """Raise ``Mismatch`` naming the row and column when ``case``'s numbers differ from ``reference``'s."""
    got = _as_arrays(case.check())
    if len(got) != len(reference):
        raise Mismatch(f"{row.key} / {col}: {len(got)} results against NumPy's {len(reference)}")
    for k, (a, b) in enumerate(zip(got, reference)):
        if a.shape != b.shape:
            raise Mismatch(f"{row.key} / {col}: result {k} has shape {a.shape}, NumPy's {b.shape}")
        if not np.allclose(a, b, rtol=row.rtol, atol=row.atol):
            err = float(np.max(np.abs(a.astype(np.float64) - b)))
            raise Mismatch(f"{row.key} / {col}: result {k} differs from NumPy's by up to {err:.3g} "
                           f"(rtol {row.rtol}, atol {row.atol})")


def _time(fn, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def _reps(fn, budget):
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    return max(1, int(budget / max(once, 1e-7)))


def measure_row(row, cols, size, *, log=None):
    """``{column: value or None}`` plus errors: each applicable column checked against NumPy, then timed.

    Columns run round-robin within each round (the order rotating, so none always goes first) and a cell
    is the median over rounds of its per-round ratio, so a burst of throttling slows a round's columns alike.
    """
    budget, rounds = BUDGET[size]
    cases, errors = {}, {}
    for col in cols:
        try:
            case = row.build(col, size)
        except Exception as e:  # noqa: BLE001 - reported in the table, and the command fails
            errors[col] = f"{type(e).__name__}: {e}"
            continue
        if case is not None:
            cases[col] = case
    if "numpy" not in cases:
        raise RuntimeError(f"{row.key}: the NumPy baseline failed: {errors.get('numpy')}")
    reference = _as_arrays(cases["numpy"].check())
    for col in list(cases):
        if col == "numpy":
            continue
        try:
            check(row, col, cases[col], reference)
        except Exception as e:  # noqa: BLE001 - a wrong or failing column is named, never timed
            errors[col] = f"{type(e).__name__}: {e}"
            del cases[col]
    if log:
        log(f"  {row.key}: checked {', '.join(cases)} against NumPy")
    times = {col: {name: [] for name in case.timed} for col, case in cases.items()}
    if rounds and budget:
        reps = {col: {name: _reps(fn, budget) for name, fn in case.timed.items()} for col, case in cases.items()}
        order = list(cases)
        for r in range(rounds):
            shift = r % len(order)
            for col in order[shift:] + order[:shift]:
                for name, fn in cases[col].timed.items():
                    times[col][name].append(_time(fn, reps[col][name]))
    return _values(row, times, size), times, errors


def _values(row, times, size):
    if not next(iter(times["numpy"].values())):
        return {col: None for col in times}
    if row.unit == "hvp/grad":
        return {col: statistics.median(h / g for h, g in zip(t["hvp"], t["grad"])) for col, t in times.items()}
    (name,) = times["numpy"]
    if row.unit == "us/op":
        return {col: statistics.median(t[name]) * 1e6 / row.ops[size] for col, t in times.items()}
    base = times["numpy"][name]
    out = {col: statistics.median(a / b for a, b in zip(t[name], base)) for col, t in times.items()}
    out["numpy"] = statistics.median(base) * 1e3  # its absolute time, in ms
    return out


def _cell(row, col, value, error):
    if error is not None:
        return "WRONG" if error.startswith("Mismatch") else "error"
    if value is None:
        return "—"
    if row.unit == "MiB":
        return f"+{value:.0f} MiB"
    if row.unit == "us/op":
        return f"{value:.2f} µs"
    if row.unit == "hvp/grad":
        return f"{value:.2f}"
    return f"{value:.3g} ms" if col == "numpy" else f"{value:.2f}×"


def render(results, cols):
    """The Markdown table of ``results`` (row -> ``(values, errors)``) over the columns ``cols``."""
    heads = ["workload", *(COLUMNS[c] for c in cols)]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for row, (values, errors) in results:
        cells = [_cell(row, c, values.get(c), errors.get(c)) for c in cols]
        lines.append("| " + " | ".join([row.label, *cells]) + " |")
    return "\n".join(lines)


def pin_malloc():
    """Keep glibc from mapping and unmapping every multi-MB temporary, for steady timings of every column alike.

    Without it the first column to free a large block moves malloc's mmap threshold for the next, and a
    step's time swings by 2× between runs (benchmarks/training_step.py measured this).

    >>> pin_malloc() in (True, False)
    True
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to pin
        return False
    return True


def machine():
    """The CPU model and core count, as ``lscpu`` names them."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"
