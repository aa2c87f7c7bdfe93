"""DataLoader's worker processes: each loads whole batches by index, seeded as PyTorch seeds its workers."""

from __future__ import annotations

import multiprocessing
import os
import queue
import random as _pyrandom
import time
import traceback
from multiprocessing.reduction import ForkingPickler

import numpy as np

from chainrule import random as _random
from chainrule.core.tensor import Tensor

__all__ = ["WorkerInfo", "get_worker_info"]

# how often a waiting worker or the main process looks up from its queue to check that the other side lives
_POLL = 0.1


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker: ``id``, ``num_workers``, ``seed``, ``dataset``.

    Read-only, as PyTorch's. ``seed`` is ``base_seed + id``, the seed of ``cr.random`` in this worker.
    """

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 -- PyTorch's field name
        for k, v in (("id", id), ("num_workers", num_workers), ("seed", seed), ("dataset", dataset)):
            object.__setattr__(self, k, v)

    def __setattr__(self, key, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


_info = None  # this process's WorkerInfo; None in the main process


def get_worker_info():
    """Inside a DataLoader worker process, its :class:`WorkerInfo`; in the main process, None.

    A dataset can read it to shard its work or to find its worker's seed.

    >>> get_worker_info() is None
    True
    """
    return _info


# ---- what crosses the queue: our own batches, Tensors travelling as their arrays -------------------
class _Wired:
    """A Tensor in transit: its array and whether it was a leaf that requires grad."""

    __slots__ = ("data", "requires_grad")

    def __init__(self, data, requires_grad):
        self.data = data
        self.requires_grad = requires_grad


def _pack(batch):
    if isinstance(batch, Tensor):
        if batch._node is not None and not batch.is_leaf:
            raise RuntimeError("DataLoader worker: a batch Tensor on a graph cannot cross processes (its graph "
                               "stays behind); return data, not the result of a differentiable computation")
        return _Wired(np.asarray(batch.data), bool(batch.requires_grad))
    if isinstance(batch, dict):
        return type(batch)((k, _pack(v)) for k, v in batch.items())
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_pack(v) for v in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(_pack(v) for v in batch)
    return batch


def _unpack(batch):
    if isinstance(batch, _Wired):
        return Tensor(batch.data, requires_grad=batch.requires_grad)
    if isinstance(batch, dict):
        return type(batch)((k, _unpack(v)) for k, v in batch.items())
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_unpack(v) for v in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(_unpack(v) for v in batch)
    return batch


class _Failure:
    """An exception raised in a worker, carried to the main process as its type and traceback text."""

    def __init__(self, worker_id, exc):
        self.where = f"in DataLoader worker process {worker_id}"
        self.exc_type = type(exc)
        self.name = type(exc).__name__
        self.text = "".join(traceback.format_exception(exc))

    def reraise(self):
        msg = f"Caught {self.name} {self.where}.\nOriginal {self.text}"
        if issubclass(self.exc_type, KeyError):  # its str is the repr of the message: keep the lines as lines
            msg = _Message(msg)
        if issubclass(self.exc_type, (StopIteration, StopAsyncIteration)):
            # raised from __next__ it would end the epoch early and quietly (without workers the loader's
            # generator makes it a RuntimeError, PEP 479)
            raise RuntimeError(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # a constructor that wants other arguments: the text still names the original
            exc = RuntimeError(msg)
        raise exc


class _Message(str):
    """A KeyError's message whose repr is itself (KeyError shows the repr of its argument)."""

    def __repr__(self):
        return str(self)


# NOTE: only our own batches, between processes we started, are serialised, with the pickler multiprocessing's
# queues use anyway; nothing is ever read from a file or from anyone else (the rest of data/ and io/ pickle nothing)
def _dump(key, result, worker_id):
    # serialised here, not in the queue's feeder thread, so that a batch that cannot be is reported, not lost
    try:
        return bytes(ForkingPickler.dumps((key, result)))
    except Exception as exc:  # noqa: BLE001 -- any pickling failure goes back to the main process
        if not isinstance(result, _Failure):
            result = _Failure(worker_id, exc)
    try:
        return bytes(ForkingPickler.dumps((key, result)))
    except Exception:  # noqa: BLE001 -- the exception's type cannot be pickled (a local class): keep its text
        result.exc_type = RuntimeError
        return bytes(ForkingPickler.dumps((key, result)))


def _seed_worker(seed):
    # PyTorch seeds Python's random and torch with base_seed + worker_id; here cr.random takes torch's place
    _pyrandom.seed(seed)
    _random.seed(seed)
    np.random.seed(seed % 2**32)  # the legacy global generator takes 32-bit seeds


def _loop(worker_id, num_workers, seed, dataset, fetch, init_fn, index_queue, result_queue, done, parent):
    """A worker's life: seed, ``init_fn(worker_id)``, then fetch each ``(key, indices)`` until None arrives."""
    global _info
    try:
        _seed_worker(seed)
        _info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_failure = None
        if init_fn is not None:
            try:
                init_fn(worker_id)
            except Exception as exc:  # noqa: BLE001 -- reported with the first batch asked of this worker
                init_failure = _Failure(worker_id, exc)
        while not done.is_set():
            try:
                task = index_queue.get(timeout=_POLL)
            except queue.Empty:
                if os.getppid() != parent:  # the main process died without shutting us down
                    break
                continue
            if task is None:
                break
            key, indices = task
            if init_failure is not None:
                result = init_failure
            else:
                try:
                    result = _pack(fetch(indices))
                except Exception as exc:  # noqa: BLE001 -- every failure is re-raised in the main process
                    result = _Failure(worker_id, exc)
            result_queue.put(_dump(key, result, worker_id))
            del result, task
    except KeyboardInterrupt:  # the main process handles Ctrl-C and shuts the workers down
        pass
    # the main process may stop reading: do not wait at exit for results it will never take
    result_queue.cancel_join_thread()


def default_context():
    """The start method workers use by default: "fork" where the platform has it (fast: nothing is pickled
    to start a worker), else "spawn" (then the dataset, collate_fn and worker_init_fn must be picklable)."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


class Pool:
    """``num_workers`` worker processes, one index queue each and one result queue shared."""

    def __init__(self, fetch, dataset, num_workers, base_seed, init_fn, context):
        self.results = context.Queue()
        self.done = context.Event()
        self.queues, self.workers = [], []
        self.epoch = 0
        self.closed = False
        try:
            for w in range(num_workers):
                q = context.Queue()
                q.cancel_join_thread()  # only small index tuples travel here; never block the main's exit on them
                p = context.Process(
                    target=_loop,
                    args=(w, num_workers, base_seed + w, dataset, fetch, init_fn, q, self.results, self.done,
                          os.getpid()),
                    daemon=True,  # ended with the main process, should it exit without shutting us down
                )
                p.start()
                self.queues.append(q)
                self.workers.append(p)
        except BaseException:
            self.shutdown()
            raise

    def send(self, worker, key, indices):
        self.queues[worker].put((key, indices))

    def receive(self, timeout):
        """The next ``(key, result)`` from any worker; ``timeout`` seconds at most (0: no limit)."""
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            wait = _POLL if deadline is None else min(_POLL, max(deadline - time.monotonic(), 0.0))
            try:
                return ForkingPickler.loads(self.results.get(timeout=wait))
            except queue.Empty:
                pass
            dead = [p.pid for p in self.workers if not p.is_alive()]
            if dead:
                self.shutdown()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly")
            if deadline is not None and time.monotonic() >= deadline:
                self.shutdown()
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def shutdown(self):
        """Stop every worker and reap it (no zombies): ask politely, wait a little, then terminate."""
        if self.closed:
            return
        self.closed = True
        self.done.set()
        for q in self.queues:
            try:
                q.put(None)
            except (OSError, ValueError):  # the queue is already closed
                pass
        deadline = time.monotonic() + 1.0  # a worker busy with a batch nobody will take is not waited for long
        for p in self.workers:
            p.join(timeout=max(deadline - time.monotonic(), 0.0))
            if p.is_alive():
                p.terminate()
                p.join()
        for q in self.queues + [self.results]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        self.shutdown()


class WorkerIterator:
    """One epoch of a DataLoader with workers: batch ``k`` goes to worker ``k % num_workers``, at most
    ``prefetch_factor`` batches ahead per worker, and comes back in order (or as ready, ``in_order=False``)."""

    def __init__(self, loader, batches, pool, owns_pool):
        self._loader = loader
        self._batches = batches
        self._pool = pool
        self._owns = owns_pool  # not persistent: this iterator shuts the workers down when done
        pool.epoch += 1
        self._epoch = pool.epoch  # results of an epoch left early (persistent workers) are recognised and dropped
        self._sent = self._yielded = 0
        self._ready = {}
        self._ahead = loader.prefetch_factor * loader.num_workers
        self._fill()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._batches)

    def _fill(self):
        n = len(self._pool.workers)
        while self._sent < len(self._batches) and self._sent - self._yielded < self._ahead:
            self._pool.send(self._sent % n, (self._epoch, self._sent), self._batches[self._sent])
            self._sent += 1

    def __next__(self):
        if self._pool is None or self._yielded >= len(self._batches):
            self._close()
            raise StopIteration
        if self._pool.epoch != self._epoch:  # persistent workers moved on to a newer iter() of the loader
            self._pool = None
            raise RuntimeError("DataLoader: this iterator's epoch was ended by a newer iter() of the same loader "
                               "(persistent_workers=True serve one epoch at a time)")
        k = self._yielded
        while not (k in self._ready if self._loader.in_order else self._ready):
            try:
                (epoch, i), result = self._pool.receive(self._loader.timeout)
            except BaseException:
                self._close()
                raise
            if epoch == self._epoch:
                self._ready[i] = result
        result = self._ready.pop(k if self._loader.in_order else next(iter(self._ready)))
        self._yielded += 1
        if isinstance(result, _Failure):
            self._close()
            result.reraise()
        self._fill()
        return _unpack(result)

    def _close(self):
        if self._pool is not None and self._owns:
            self._pool.shutdown()
        self._pool = None

    def __del__(self):
        self._close()
