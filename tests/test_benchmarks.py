"""Every benchmark in benchmarks/ runs to completion on a tiny problem and prints its ratio.

Not a timing test: the numbers are whatever this machine gives; what is checked is that each
script still runs against the current API, checks its answer and reports its baseline.
"""

import os
import subprocess
import sys

import pytest

from chainrule.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = {
    "bench_tape.py": (["--rounds", "2"], "ratio chainrule / by hand"),
    "bench_hvp.py": (["--n", "300", "--repeat", "3"], "hvp/grad ="),
    "bench_jacobian.py": (["--rounds", "2"], "ratio"),
    "bench_mlp.py": (["--steps", "2", "--rounds", "2"], "ratio"),
    "bench_cnn.py": (["--steps", "2", "--rounds", "2"], "ratio"),
    "bench_lstm.py": (["--steps", "1", "--rounds", "1"], "LSTM step b32 L32"),
    "bench_rnn.py": (["--steps", "5", "--reps", "1", "--rounds", "1"], "ratio nn.RNN / by hand"),
    "bench_checkpoint.py": (["--depth", "8", "--width", "64", "--batch", "16"], "saved for backward"),
    "bench_memory.py": ([], "ratio"),
    "bench_transformer.py": (["--steps", "1", "--rounds", "1"], "chainrule     :"),
    "bench_jit.py": (["--quick"], "ratio"),
    "bench_distributed.py": (["--steps", "1", "--rounds", "1", "--batch", "4"], "scaling efficiency"),
}


def test_every_benchmark_is_covered():
    scripts = {f for f in os.listdir(os.path.join(ROOT, "benchmarks")) if f.startswith("bench_")}
    assert scripts == set(QUICK)


@pytest.mark.parametrize("script", sorted(QUICK))
def test_benchmark_runs(script):
    args, expect = QUICK[script]
    if script == "bench_distributed.py":
        pytest.importorskip("mpi4py", reason='needs mpi4py and mpiexec: pip install "chainrule[mpi]"')
    env = dict(os.environ, PYTHONIOENCODING="utf-8", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert expect in proc.stdout


def test_bench_command_refuses_unknown_names_and_missing_folders(tmp_path, capsys):
    assert main(["bench", "--dir", os.path.join(ROOT, "benchmarks"), "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark(s) ['nosuch']" in err and "tape" in err
    assert main(["bench", "--dir", str(tmp_path)]) == 2
    assert "no benchmarks/ folder found" in capsys.readouterr().err
