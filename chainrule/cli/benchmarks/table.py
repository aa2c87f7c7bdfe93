"""The speed table: every row checked against NumPy, then timed in interleaved rounds; printed, and saved as JSON.

Run through ``python -m chainrule bench``, which starts this in a fresh process with one BLAS thread.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

from . import harness, jacobians, memory, small, training

__all__ = ["ROWS", "main", "run"]

MEMORY = harness.Row("memory", "peak memory rise, 32×1024 tanh MLP, batch 256, fwd+bwd", "MiB", None)
ROWS = {row.key: row for row in [*training.ROWS[:2], *small.ROWS, training.ROWS[2], *jacobians.ROWS, MEMORY]}


def _threads():
    return {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def run(keys, size, cols=None, *, log=None, in_process=False):
    """``[(row, values, errors)]`` for the rows ``keys`` at ``size`` ("full", "quick" or "tiny") over ``cols``.

    >>> [(row.key, sorted(values)) for row, values, _ in run(["jacrev"], "tiny", ["numpy", "eager"])]
    [('jacrev', ['eager', 'numpy'])]
    """
    cols = cols or harness.available()
    out = []
    for key in keys:
        row = ROWS[key]
        t0 = time.perf_counter()
        if row is MEMORY:
            values, errors = memory.measure(cols, size, in_process=in_process)
        else:
            values, _, errors = harness.measure_row(row, cols, size, log=log)
        if log:
            log(f"  {key}: {time.perf_counter() - t0:.1f} s")
        out.append((row, values, errors))
    return out


def to_json(results, cols, size):
    """The run as a JSON-ready dict: the machine, the columns, and per row its unit and cells (null: no value)."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": harness.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": _threads(),
        "mode": size,
        "columns": {c: harness.COLUMNS[c] for c in harness.COLUMNS},
        "measured": cols,
        "rows": {row.key: {"label": row.label, "unit": row.unit,
                           "numpy_cell": "ms" if row.unit == "ratio" else row.unit,
                           "cells": {c: values.get(c) for c in harness.COLUMNS}, "errors": errors}
                 for row, values, errors in results},
    }


def _write_json(path, data):
    """``data`` to ``path`` through a temporary file beside it: a failed write leaves the old results whole."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None):
    """Parse ``--quick``, ``--rows`` and ``--json``, print the table; exit status 1 when any cell is wrong."""
    p = argparse.ArgumentParser(prog="chainrule bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer, shorter rounds (about a minute)")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # tiny sizes: the tests' check run
    p.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated rows (default: all of {','.join(ROWS)})")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the numbers to PATH as JSON")
    p.add_argument("--columns", default=None, help=argparse.SUPPRESS)  # a subset of the available ones
    a = p.parse_args(argv)
    keys = [k.strip() for k in a.rows.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ROWS]
    if unknown or not keys:
        print(f"chainrule bench: unknown row(s) {unknown}; choose from {','.join(ROWS)}", file=sys.stderr)
        return 2
    size = "tiny" if a.tiny else "quick" if a.quick else "full"
    cols = harness.available()
    if a.columns:
        cols = [c for c in cols if c in a.columns.split(",")]
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    log(f"chainrule bench ({size}): {harness.machine()}; BLAS threads {_threads()}; columns {', '.join(cols)}")
    harness.pin_malloc()  # the memory row's fresh processes leave it unpinned: they measure what the OS sees
    results = run(keys, size, cols, log=log)
    print(harness.render([(row, (values, errors)) for row, values, errors in results], list(harness.COLUMNS)))
    print(f"\nRatios to the same workload written by hand in NumPy (its time in ms in its column); lower is faster. "
          f"Tape row: µs per op; HVP row: each column's own hvp time / grad time; memory: peak resident set rise. "
          f"Medians of per-round ratios over {harness.BUDGET[size][1]} interleaved rounds, one BLAS thread; "
          f"{harness.machine()}.")
    if a.json:
        _write_json(a.json, to_json(results, cols, size))
    failed = [(row.key, col, err) for row, _, errors in results for col, err in errors.items()]
    for key, col, err in failed:
        print(f"chainrule bench: row {key}, column {col}: {err}", file=sys.stderr)
    return 1 if failed else 0
