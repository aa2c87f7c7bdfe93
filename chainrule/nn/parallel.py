"""``DistributedDataParallel``: one model per MPI process, gradients averaged in buckets while backward runs."""

from __future__ import annotations

import queue
import threading
import time
from contextlib import contextmanager

import numpy as np

from .. import distributed
from .module import Module

__all__ = ["DistributedDataParallel"]

POLL_SECONDS = 2e-4  # how often the progress thread tests the reductions in flight


class _Bucket:
    """Parameters whose gradients travel together in one contiguous buffer (one Iallreduce)."""

    __slots__ = ("params", "offsets", "buffer", "waiting", "request")

    def __init__(self, params, dtype):
        self.params = params
        self.offsets = np.cumsum([0] + [p.size for p in params]).tolist()
        self.buffer = np.empty(self.offsets[-1], dtype=dtype)
        self.waiting = len(params)
        self.request = None

    def view(self, k):
        return self.buffer[self.offsets[k] : self.offsets[k + 1]]


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training: each process runs it on its share of the batch and
    ``backward`` leaves every process the gradient averaged over all of them.

    At wrap time the parameters and buffers of rank 0 are broadcast to every process, after checking
    that all processes hold the same parameters (names, shapes and dtypes; a mismatch raises naming the
    first parameter that differs). Gradients are averaged **during** backward: parameters are grouped,
    last layer first (the order backward reaches them), into buckets of about ``bucket_cap_mb`` MiB of
    one dtype; when the last gradient of a bucket has been accumulated, the bucket is packed into one
    contiguous buffer and reduced by a non-blocking ``MPI_Iallreduce`` while backward goes on (a progress
    thread tests the requests, since MPICH advances them only inside MPI calls); the last
    gradient to arrive waits for them all and writes the averages back into ``.grad``. float32 stays
    float32 on the wire. Every parameter must receive a gradient in each backward pass (PyTorch's
    default); one that did not is named by the next forward. ``no_sync()`` skips the averaging, for
    gradient accumulation. With ``broadcast_buffers`` (the default, as in PyTorch) each forward in
    training mode first copies rank 0's buffers (BatchNorm's running statistics) to every process.

    In a world of one it only calls ``module``.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> model = nn.parallel.DistributedDataParallel(nn.Linear(3, 1))
    >>> model(cr.ones((4, 3), dtype="float32")).sum().backward()
    >>> model.module.weight.grad.shape
    (1, 3)
    """

    def __init__(self, module, bucket_cap_mb=25, broadcast_buffers=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a cr.nn.Module, got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        object.__setattr__(self, "broadcast_buffers", bool(broadcast_buffers))
        object.__setattr__(self, "world_size", distributed.init())
        object.__setattr__(self, "_sync", True)
        object.__setattr__(self, "_buckets", [])
        object.__setattr__(self, "_handles", [])
        object.__setattr__(self, "_ready", {})
        object.__setattr__(self, "_launched", None)  # the progress thread's queue of buckets, while one runs
        object.__setattr__(self, "_poller", None)
        # the last backward: seconds its end waited for reductions, and the share of the gradient bytes whose
        # reduction had already completed when its last gradient arrived (benchmarks/bench_distributed.py)
        object.__setattr__(self, "wait_seconds", 0.0)
        object.__setattr__(self, "reduced_during_backward", 0.0)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if self.world_size > 1:
            _check_same(named, module)
            for _, p in named:
                distributed.broadcast(p.data, root=0)
            self._sync_buffers()
            self._build_buckets(named, bucket_cap_mb)

    # ---- wrap time -----------------------------------------------------------------------
    def _build_buckets(self, named, cap_mb):
        cap = cap_mb * 2**20
        open_by_dtype = {}  # dtype -> the bucket being filled
        groups = []
        for name, p in reversed(named):  # backward reaches the last layers first
            group = open_by_dtype.get(p.dtype)
            if group is None or group[1] + p.data.nbytes > cap and group[2]:
                group = open_by_dtype[p.dtype] = [p.dtype, 0, []]
                groups.append(group)
            group[1] += p.data.nbytes
            group[2].append((name, p))
        for dtype, _, members in groups:
            bucket = _Bucket([p for _, p in members], dtype)
            self._buckets.append(bucket)
            for k, (name, p) in enumerate(members):
                self._handles.append(p.register_post_accumulate_grad_hook(self._hook(bucket, k, name)))

    def _hook(self, bucket, k, name):
        def ready(param):
            if not self._sync:
                return
            if name in self._ready:
                raise RuntimeError(
                    f"DistributedDataParallel: the gradient of {name!r} was accumulated twice before the "
                    f"reduction of the previous backward finished; run one backward per step (or the others "
                    f"under no_sync())"
                )
            self._ready[name] = bucket
            np.copyto(bucket.view(k), param.grad.data.reshape(-1))
            bucket.waiting -= 1
            if bucket.waiting == 0:
                self._start(bucket)
            if len(self._ready) == len(self._handles):
                self._finish()

        return ready

    def _sync_buffers(self):
        for buf in self.module.buffers():
            if buf is not None:
                distributed.broadcast(buf, root=0)

    # ---- during backward -----------------------------------------------------------------
    def _start(self, bucket):
        from mpi4py import MPI

        comm = distributed.communicator()
        if MPI.Query_thread() < MPI.THREAD_MULTIPLE:
            raise RuntimeError(
                "DistributedDataParallel needs MPI_THREAD_MULTIPLE (mpi4py's default): its progress thread "
                "tests the reductions while backward runs; leave mpi4py.rc.threads and rc.thread_level as they are"
            )
        bucket.request = comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
        if self._poller is None:
            launched = queue.SimpleQueue()
            poller = threading.Thread(target=_drive, args=(launched,), name="ddp-progress", daemon=True)
            object.__setattr__(self, "_launched", launched)
            object.__setattr__(self, "_poller", poller)
            poller.start()
        self._launched.put(bucket)

    def _finish(self):
        t0 = time.perf_counter()
        done = sum(b.buffer.nbytes for b in self._buckets if b.request is None)
        total = sum(b.buffer.nbytes for b in self._buckets)
        object.__setattr__(self, "reduced_during_backward", done / total if total else 1.0)
        self._launched.put(None)
        self._poller.join()
        object.__setattr__(self, "_poller", None)
        for bucket in self._buckets:
            if bucket.request is not None:  # the thread stopped early on an MPI error: raise it here
                bucket.request.Wait()
                bucket.request = None
        object.__setattr__(self, "wait_seconds", time.perf_counter() - t0)
        scale = 1.0 / self.world_size
        for bucket in self._buckets:
            bucket.buffer *= bucket.buffer.dtype.type(scale)
            for k, p in enumerate(bucket.params):
                np.copyto(p.grad.data, bucket.view(k).reshape(p.shape))
            bucket.waiting = len(bucket.params)
        self._ready.clear()

    # ---- the wrapped module ---------------------------------------------------------------
    def forward(self, *args, **kwargs):
        if self._ready:
            got = set(self._ready)
            missing = [n for n, p in self.module.named_parameters() if p.requires_grad and n not in got]
            raise RuntimeError(
                f"DistributedDataParallel: the last backward gave no gradient to {', '.join(map(repr, missing))}, "
                f"so its reduction never finished; every parameter must take part in the loss"
            )
        if self.world_size > 1 and self.broadcast_buffers and self.training:
            self._sync_buffers()
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self):
        """Inside the block, backward only accumulates locally; the first backward after it averages the sum.

        >>> import chainrule as cr
        >>> from chainrule import nn
        >>> model = nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
        >>> with model.no_sync():
        ...     model(cr.ones((1, 2), dtype="float32")).sum().backward()
        >>> model(cr.ones((1, 2), dtype="float32")).sum().backward()
        >>> model.module.bias.grad.data.tolist()
        [2.0]
        """
        previous = self._sync
        object.__setattr__(self, "_sync", False)
        try:
            yield self
        finally:
            object.__setattr__(self, "_sync", previous)


def _drive(launched):
    """The progress thread: MPICH advances a non-blocking collective only inside an MPI call, so while
    backward computes, this thread tests each bucket's request (mpi4py releases the GIL in MPI calls,
    NumPy in its large operations) until it completes; it alone completes them, as MPI requires."""
    while True:
        bucket = launched.get()
        if bucket is None:
            return
        request = bucket.request
        try:
            while not request.Test():
                time.sleep(POLL_SECONDS)
        except Exception:  # left for the main thread's Wait to raise
            return
        bucket.request = None


def _check_same(named, module):
    """Every process holds parameters of the same names, shapes and dtypes (compared with rank 0's)."""
    mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
    mine += [("buffer " + n, tuple(b.shape), str(b.dtype)) for n, b in module.named_buffers() if b is not None]
    comm = distributed.communicator()
    reference = comm.bcast(mine, root=0)
    rank = comm.Get_rank()
    problem = None
    for k in range(max(len(mine), len(reference))):
        have = mine[k] if k < len(mine) else None
        want = reference[k] if k < len(reference) else None
        if have != want:
            problem = (f"DistributedDataParallel: rank {rank} differs from rank 0 at parameter "
                       f"{(have or want)[0]!r}: {_describe(have)} here, {_describe(want)} on rank 0")
            break
    # every process learns whether any differs, so all raise together instead of some waiting forever
    problems = comm.allgather(problem)
    first = next((p for p in problems if p is not None), None)
    if first is not None:
        raise ValueError(first if problem is None else problem)


def _describe(entry):
    if entry is None:
        return "absent"
    name, shape, dtype = entry
    return f"{name!r} of shape {shape} and dtype {dtype}"
