"""Data-parallel CNN training step over MPI: samples/s with 1 and 2 processes, scaling, allreduce hidden by backward.

The model is the train command's CNN (conv 3×3 1→32, ReLU, pool; conv 3×3
32→64, ReLU, pool; linear 3136→128, ReLU, linear →10; 421,642 float32
parameters) on 1×28×28 inputs, wrapped in ``DistributedDataParallel`` and
stepped by SGD, each process on a batch of its own (weak scaling, as Horovod
reports it: the global batch grows with the processes). Each process uses one
BLAS thread. The script launches itself under ``mpiexec -n N`` for every N of
``--procs`` and reports:

- samples/s of the whole job (slowest rank's step time), and the scaling
  efficiency ``samples/s(N) / (N · samples/s(1))``;
- the same step with the gradients reduced only after backward (one blocking
  ``Allreduce`` of all of them, what happens without the hooks), alternated in
  rounds with the overlapped step;
- the share of the allreduce hidden behind backward: of the gradient bytes,
  the share whose reduction had completed when backward's last gradient
  arrived; and, in milliseconds, what the overlapped step still waits for at
  the end of backward (``wait``: the rest of the reductions, and any wait for a
  slower process) next to the blocking reduction's own time in the other step
  (``reduce``, measured after a barrier).

    python benchmarks/bench_distributed.py [--procs 1,2] [--steps 20] [--rounds 3] [--batch 32]
                                           [--bucket-mb 1] [--json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: one BLAS thread per process
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import chainrule as cr  # noqa: E402
from chainrule import distributed as dist  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.cli.training.models import build_model  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

SIDE, CLASSES = 28, 10


def _reduce_after(model, grads_flat):
    """Blocking average of every gradient after backward: one Allreduce of one contiguous buffer."""
    params = [p for p in model.module.parameters()]
    dist.barrier()  # so that the time is the reduction's own, not a wait for a slower process
    t0 = time.perf_counter()
    offset = 0
    for p in params:
        grads_flat[offset : offset + p.size] = p.grad.data.reshape(-1)
        offset += p.size
    dist.all_reduce(grads_flat, op="mean")
    offset = 0
    for p in params:
        p.grad.data[...] = grads_flat[offset : offset + p.size].reshape(p.shape)
        offset += p.size
    return time.perf_counter() - t0


def worker(args):
    """One process of the job: alternate rounds of overlapped and reduce-after steps; rank 0 prints JSON."""
    world = dist.init()
    rank = dist.get_rank()
    cr.random.seed(0)
    model = nn.parallel.DistributedDataParallel(build_model("cnn", SIDE * SIDE, CLASSES), bucket_cap_mb=args.bucket_mb)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    x = cr.tensor(rng.random((args.batch, 1, SIDE, SIDE), dtype=np.float32))
    y = rng.integers(0, CLASSES, args.batch)
    grads_flat = np.empty(sum(p.size for p in model.parameters()), dtype=np.float32)

    def step(overlap):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        reduce_s = 0.0
        if overlap or world == 1:
            loss.backward()
        else:
            with model.no_sync():
                loss.backward()
            reduce_s = _reduce_after(model, grads_flat)
        opt.step()
        return reduce_s

    for _ in range(2):  # warm-up: first-touch allocations, MPI connections
        step(True)
        step(False)
    timings = {"overlap": [], "after": [], "wait": [], "reduce": [], "during": []}
    for _ in range(args.rounds):
        for mode in ("overlap", "after"):
            dist.barrier()
            t0 = time.perf_counter()
            extra = []
            for _ in range(args.steps):
                r = step(mode == "overlap")
                extra.append(model.wait_seconds if mode == "overlap" else r)
                if mode == "overlap":
                    timings["during"].append(model.reduced_during_backward)
            elapsed = np.array([time.perf_counter() - t0])
            dist.all_reduce(elapsed, op="max")  # the job goes as fast as its slowest process
            timings[mode].append(float(elapsed[0]) / args.steps)
            timings["wait" if mode == "overlap" else "reduce"].append(statistics.mean(extra))
    if rank == 0:
        med = {k: statistics.median(v) for k, v in timings.items()}
        print(json.dumps({
            "procs": world, "batch_per_process": args.batch,
            "samples_per_s": world * args.batch / med["overlap"],
            "samples_per_s_reduce_after": world * args.batch / med["after"],
            "step_ms": 1e3 * med["overlap"], "wait_ms": 1e3 * med["wait"], "reduce_ms": 1e3 * med["reduce"],
            "hidden_share": None if world == 1 else statistics.mean(timings["during"]), "buckets": len(model._buckets),
        }), flush=True)


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.path.exists(here) else shutil.which("mpiexec")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", default="1,2", help="process counts to run, comma-separated (default: 1,2)")
    parser.add_argument("--steps", type=int, default=20, help="steps per round (default: 20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each mode, alternated (default: 3)")
    parser.add_argument("--batch", type=int, default=32, help="samples per process per step (default: 32)")
    parser.add_argument("--bucket-mb", type=float, default=1.0,
                        help="DistributedDataParallel's bucket_cap_mb (default: 1, so that the big linear layer's "
                             "gradient, ready early in backward, is reduced while the convolutions' run)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    mpiexec = _mpiexec()
    if mpiexec is None:
        sys.exit('bench_distributed: no mpiexec found; pip install "chainrule[mpi]"')
    results = []
    for n in [int(v) for v in args.procs.split(",")]:
        cmd = [mpiexec, "-n", str(n), sys.executable, os.path.abspath(__file__), "--worker", "--steps",
               str(args.steps), "--rounds", str(args.rounds), "--batch", str(args.batch),
               "--bucket-mb", str(args.bucket_mb)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            sys.exit(f"bench_distributed: mpiexec -n {n} failed:\n{done.stdout}{done.stderr}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = results[0]["samples_per_s"] / results[0]["procs"]
    for r in results:
        r["scaling_efficiency"] = r["samples_per_s"] / (r["procs"] * base)
    if args.json:
        print(json.dumps({"benchmark": "distributed", "results": results}))
        return
    print(f"CNN step (train --model cnn on 1x{SIDE}x{SIDE}), batch {args.batch} per process, float32, "
          f"one BLAS thread per process, {results[-1]['buckets']} buckets of <= {args.bucket_mb:g} MiB; "
          f"median of {args.rounds} rounds of {args.steps} steps")
    print(f"{'procs':>5} {'samples/s':>10} {'reduce-after':>13} {'step ms':>8} {'wait ms':>8} {'reduce ms':>10} "
          f"{'hidden':>7} {'scaling':>8}")
    for r in results:
        hidden = "-" if r["hidden_share"] is None else f"{100 * r['hidden_share']:.0f}%"
        print(f"{r['procs']:>5} {r['samples_per_s']:>10.1f} {r['samples_per_s_reduce_after']:>13.1f} "
              f"{r['step_ms']:>8.2f} {r['wait_ms']:>8.3f} {r['reduce_ms']:>10.3f} {hidden:>7} "
              f"{100 * r['scaling_efficiency']:>7.0f}%")
    print("scaling efficiency = samples/s(N) / (N * samples/s(1)); hidden = share of the gradient bytes already "
          "reduced when backward's last gradient arrived")


if __name__ == "__main__":
    main()
