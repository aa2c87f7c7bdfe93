"""``python -m chainrule train --distributed`` under mpiexec: same results as one process, rank 0 alone writes."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from .test_mpi import MPIEXEC, ROOT, WHY

needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason=WHY or "")


def _env(extra_path=None):
    path = os.pathsep.join(p for p in (extra_path, ROOT, os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1")


def _train(out, *args, n=None):
    cmd = [sys.executable, "-m", "chainrule", "train", "--no-progress", "--out", str(out), *args]
    if n is not None:
        cmd = [MPIEXEC, "-n", str(n), *cmd, "--distributed"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_env(), cwd=ROOT)


def _losses(out):
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r["train_loss"]), float(r["test_loss"])] for r in rows])


@needs_mpi
def test_distributed_and_resumed_equals_one_process(tmp_path):
    """2 epochs on 2 processes, resumed for a third on 3, match the same on one process (float32 sums)."""
    for epochs in ("2", "3"):  # the same schedule both ways: a resumed --epochs 3 anneals from epoch 2's lr
        one = _train(tmp_path / "one", "--epochs", epochs, "--batch-size", "64", *(["--resume"] * (epochs == "3")))
        assert one.returncode == 0, one.stderr
    first = _train(tmp_path / "dist", "--epochs", "2", "--batch-size", "64", n=2)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("test accuracy") == 1 and "across 2 processes" in first.stdout  # rank 0 alone
    again = _train(tmp_path / "dist", "--epochs", "3", "--resume", n=3)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(os.listdir(tmp_path / "dist")) == ["curves.png", "metrics.csv", "model.safetensors"]
    np.testing.assert_allclose(_losses(tmp_path / "dist"), _losses(tmp_path / "one"), rtol=1e-4)


def test_distributed_without_mpi4py_names_the_extra(tmp_path):
    blocker = tmp_path / "block"
    (blocker / "mpi4py").mkdir(parents=True)
    (blocker / "mpi4py" / "__init__.py").write_text("raise ImportError('mpi4py hidden by the test')\n")
    done = subprocess.run([sys.executable, "-m", "chainrule", "train", "--distributed", "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120, env=_env(str(blocker)), cwd=ROOT)
    assert done.returncode == 2
    assert 'pip install "chainrule[mpi]"' in done.stderr
