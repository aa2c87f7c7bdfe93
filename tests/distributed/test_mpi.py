"""cr.distributed, DistributedSampler and DistributedDataParallel under a real mpiexec (2 and 3 processes)."""

import os
import shutil
import subprocess
import sys

import pytest

WORKER = os.path.join(os.path.dirname(__file__), "worker.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _mpiexec():
    """The mpiexec next to this Python (the mpich wheel's), else the one on PATH, or a reason to skip."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None, 'mpi4py is not installed (pip install "chainrule[mpi]")'
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = here if os.path.exists(here) else shutil.which("mpiexec")
    if found is None:
        return None, "no mpiexec found (the mpich wheel brings one)"
    probe = subprocess.run([found, "-n", "2", sys.executable, "-c", "from mpi4py import MPI; MPI.COMM_WORLD.Barrier()"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return None, f"mpiexec -n 2 cannot start here: {probe.stderr.strip()[-300:]}"
    return found, None


MPIEXEC, WHY = _mpiexec()
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason=WHY or "")


def _run(n, *args, timeout=60, script=WORKER):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OPENBLAS_NUM_THREADS="1")
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, script, *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


@pytest.mark.parametrize("n", [2, 3])  # 3 processes on fewer cores: MPICH oversubscribes without being asked
@pytest.mark.parametrize("scenario", ["ddp_equals_one_process", "no_sync_accumulates", "collectives",
                                      "sampler_partitions"])
def test_scenario(scenario, n):
    done = _run(n, scenario)
    assert done.returncode == 0, done.stdout + done.stderr
    # the ranks' lines may interleave on the shared stdout
    assert done.stdout.count("ok ") == n and all(f"ok {r}" in done.stdout for r in range(n)), done.stdout


def test_a_failing_rank_ends_the_job_promptly():
    done = _run(2, "fail", timeout=30)  # a hang would be a TimeoutExpired here
    assert done.returncode != 0
    assert "rank 1 fails on purpose" in done.stderr


def test_different_parameters_are_refused_at_wrap_time():
    done = _run(2, "mismatch", timeout=30)
    assert done.returncode != 0
    assert "differs from rank 0 at parameter 'weight'" in done.stderr
