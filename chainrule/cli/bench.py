"""``python -m chainrule bench``: run ``benchmarks/bench_*.py``, each reporting ratios against its baseline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["register", "run"]


def _find_benchmarks(explicit):
    source_checkout = Path(__file__).resolve().parents[2] / "benchmarks"
    candidates = [Path(explicit)] if explicit else [Path.cwd() / "benchmarks", source_checkout]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("bench_*.py")):
            return folder
    return None


def register(subparsers):
    p = subparsers.add_parser(
        "bench",
        help="run the benchmark suite",
        description="Run each benchmarks/bench_*.py in its own process (single-threaded BLAS); each prints its "
        "numbers and the ratio against a baseline measured in the same run.",
    )
    p.add_argument("names", nargs="*", help="benchmarks to run, e.g. tape memory mlp (default: all)")
    p.add_argument("--dir", default=None, help="folder holding bench_*.py (default: ./benchmarks of a source checkout)")
    p.set_defaults(func=run)


def run(args) -> int:
    folder = _find_benchmarks(args.dir)
    if folder is None:
        print("chainrule bench: no benchmarks/ folder found; run it from a chainrule source checkout "
              "or pass --dir PATH", file=sys.stderr)
        return 2
    scripts = sorted(folder.glob("bench_*.py"))
    if args.names:
        wanted = {n.removeprefix("bench_").removesuffix(".py") for n in args.names}
        unknown = wanted - {s.stem.removeprefix("bench_") for s in scripts}
        if unknown:
            print(f"chainrule bench: unknown benchmark(s) {sorted(unknown)}; available: "
                  f"{[s.stem.removeprefix('bench_') for s in scripts]}", file=sys.stderr)
            return 2
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    failed = 0
    for script in scripts:
        print(f"== {script.stem} ==", flush=True)
        failed += subprocess.run([sys.executable, str(script)], env=env).returncode != 0
    return 1 if failed else 0
