"""``python -m chainrule bench``: one table of workloads against hand-written NumPy; or ``benchmarks/bench_*.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["register", "run", "single_threaded_env"]


def _find_benchmarks(explicit):
    source_checkout = Path(__file__).resolve().parents[2] / "benchmarks"
    candidates = [Path(explicit)] if explicit else [Path.cwd() / "benchmarks", source_checkout]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("bench_*.py")):
            return folder
    return None


def single_threaded_env():
    """This process's environment with one BLAS/OpenMP thread (and one XLA thread), for a child to time in.

    NumPy reads these once, when it loads, which ``python -m chainrule`` has done by now; hence a child.

    >>> single_threaded_env()["OPENBLAS_NUM_THREADS"]
    '1'
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    # the child imports this very chainrule, however this one was found
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def register(subparsers):
    p = subparsers.add_parser(
        "bench",
        help="print the speed table (or run benchmarks/bench_*.py)",
        description="Print one table: each workload (MLP and CNN training steps, the tape cost per op, an RNN, "
        "Jacobians, HVP/grad, peak memory) in chainrule eager and jit, hand-written NumPy (the baseline), and "
        "PyTorch, JAX and HIPS autograd where installed, each checked against NumPy, then timed interleaved "
        "with one BLAS thread. With NAMEs or --suite: run those benchmarks/bench_*.py scripts instead.",
    )
    p.add_argument("names", nargs="*", help="benchmark scripts to run, e.g. tape memory mlp (then no table)")
    p.add_argument("--quick", action="store_true", help="the table in about a minute (fewer, shorter rounds)")
    p.add_argument("--rows", default=None, help="comma-separated rows of the table, e.g. mlp128,rnn (default: all)")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the table's numbers to PATH")
    p.add_argument("--tiny", action="store_true", help="tiny sizes, one round: checks every row in seconds")
    p.add_argument("--suite", action="store_true", help="run every benchmarks/bench_*.py script instead")
    p.add_argument("--dir", default=None, help="folder holding bench_*.py (default: ./benchmarks of a source checkout)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.names or args.suite or args.dir:
        return _suite(args)
    cmd = [sys.executable, "-m", "chainrule.cli.benchmarks"]
    cmd += ["--quick"] * args.quick + ["--tiny"] * args.tiny
    cmd += ["--rows", args.rows] * bool(args.rows) + ["--json", args.json] * bool(args.json)
    sys.stdout.flush()
    return subprocess.run(cmd, env=single_threaded_env(), check=False).returncode


def _suite(args):
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
    env = single_threaded_env()
    failed = 0
    for script in scripts:
        print(f"== {script.stem} ==", flush=True)
        failed += subprocess.run([sys.executable, str(script)], env=env).returncode != 0
    return 1 if failed else 0
