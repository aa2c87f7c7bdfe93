"""``DataLoader``: deterministic, seedable mini-batching over a dataset."""

import functools
import multiprocessing
import numbers
from collections.abc import Mapping

import numpy as np

from chainrule.core.tensor import Tensor
from chainrule.data.dataset import TensorDataset
from chainrule.data.worker import Pool, WorkerIterator, default_context
from chainrule.ops.join import stack

__all__ = ["DataLoader", "collate"]


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader {name} must be a bool, got {value!r}")
    return bool(value)


def _structure_error(what, found):
    return ValueError(f"cannot collate samples with differing structure: expected {what}, got {found}")


def _is_record_list(items):
    """A list sample is a record (collated field-wise) when it holds Tensors, dicts or tuples, or fields
    NumPy cannot stack into one numeric array; a list of numbers is array data, as np.asarray sees it."""
    for it in items:
        if any(isinstance(v, (Tensor, Mapping, tuple)) for v in it):
            return True
    try:
        return np.asarray(items[0]).dtype == object
    except ValueError:  # ragged
        return True


def collate(items):
    """Stack samples into one batch, field by field, as PyTorch's ``default_collate`` does.

    A dict sample gives a dict of batches (same keys), a tuple (or namedtuple) a tuple of batches, each
    field collated again, so nesting works; a list of numbers is array data (a row), while a list holding
    Tensors, dicts or tuples is a record like a tuple. A field whose first sample is a Tensor becomes one
    Tensor (dtype kept; on the graph when a sample requires grad); strings stay a list; anything else
    becomes an ndarray.

    >>> import numpy as np
    >>> xb, yb = collate([(np.zeros(2), 1), (np.ones(2), 0)])
    >>> xb.shape, yb.tolist()
    ((2, 2), [1, 0])
    >>> batch = collate([{"x": np.zeros(3), "y": 1}, {"x": np.ones(3), "y": 0}])
    >>> batch["x"].shape, batch["y"].tolist()
    ((2, 3), [1, 0])
    """
    first = items[0]
    if isinstance(first, Mapping):
        keys = list(first)
        for it in items:
            if not isinstance(it, Mapping) or set(it) != set(keys):
                found = sorted(map(str, it)) if isinstance(it, Mapping) else type(it).__name__
                raise _structure_error(f"dicts with the keys {sorted(map(str, keys))}", found)
        batch = {k: collate([it[k] for it in items]) for k in keys}
        try:
            return type(first)(batch)  # an OrderedDict stays one
        except TypeError:
            return batch
    if isinstance(first, tuple) or (isinstance(first, list) and _is_record_list(items)):
        kind = type(first)
        width = len(first)
        if any(not isinstance(it, kind) or len(it) != width for it in items):
            found = [len(it) if isinstance(it, kind) else type(it).__name__ for it in items]
            raise _structure_error(f"{kind.__name__}s of {width} fields", found)
        fields = [collate([it[k] for it in items]) for k in range(width)]
        if hasattr(first, "_fields"):  # a namedtuple keeps its type and field names
            return kind(*fields)
        return fields if kind is list else tuple(fields)
    if isinstance(first, (str, bytes)):  # text stays a list of strings, as in PyTorch
        return list(items)
    if isinstance(first, Tensor):
        if any(getattr(it, "requires_grad", False) for it in items):
            return stack(items)  # samples on a graph: keep it, as torch's default_collate does
        return Tensor(np.stack([np.asarray(it) for it in items]))
    return np.stack([np.asarray(it) for it in items])


def _fetch(dataset, collate_fn, indices):
    """The batch of ``dataset`` at ``indices`` (module-level, so that spawned workers can unpickle it)."""
    # Only the stock __getitem__ may be bypassed: a subclass overriding it
    # (say, for augmentation) must see every sample.
    if collate_fn is not None:
        return collate_fn([dataset[int(i)] for i in indices])
    if type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset._take(indices)
    return collate([dataset[int(i)] for i in indices])


def _context(value):
    if value is None:
        return default_context()
    if isinstance(value, str):
        methods = multiprocessing.get_all_start_methods()
        if value not in methods:
            raise ValueError(
                f"multiprocessing_context option should specify a valid start method in {methods!r}, but got "
                f"multiprocessing_context={value!r}"
            )
        return multiprocessing.get_context(value)
    if not isinstance(value, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string specifying the start "
            f"method, but got multiprocessing_context={value!r}"
        )
    return value


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    With ``shuffle=True`` a fresh permutation is drawn each epoch from one
    ``np.random.default_rng(seed)``, so epochs differ from each other while two
    loaders built with the same seed yield identical batches. ``collate_fn`` turns each list of samples
    into a batch (default :func:`collate`); ``drop_last`` drops a short final batch. A ``sampler``
    (an iterable of indices, such as :class:`DistributedSampler`) decides the order instead, read anew
    each epoch.

    ``num_workers > 0`` loads batches in that many worker processes, PyTorch's way: batch ``k`` is
    fetched whole (dataset and ``collate_fn``) by worker ``k % num_workers``, at most
    ``prefetch_factor`` (default 2) batches ahead per worker, and delivered in order (``in_order=False``:
    as they are ready). Each epoch draws a base seed from a child of the loader's generator (so the order
    is the same as with ``num_workers=0``); worker ``i`` seeds ``cr.random``, Python's ``random`` with
    ``base_seed + i`` and NumPy's global generator with ``(base_seed + i) % 2**32`` before
    ``worker_init_fn(i)``, so a seeded loader repeats its batches, random transforms included, for a
    given ``num_workers``. :func:`get_worker_info` tells the dataset which worker it runs in. Workers
    start with "fork" where the platform has it, else "spawn" (then dataset, ``collate_fn`` and
    ``worker_init_fn`` must be picklable, and a script must guard its entry with
    ``if __name__ == "__main__":``, as for any multiprocessing); ``multiprocessing_context`` chooses.
    They stop when the epoch ends, is left early or fails, unless ``persistent_workers=True`` keeps them
    for the next epoch.
    A worker's exception is raised again here, naming the worker and carrying its traceback;
    ``timeout`` (seconds, 0 = none) bounds the wait for each batch. Batches cross between processes
    as NumPy arrays (Tensors are rebuilt on arrival).

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(10), np.arange(10) % 2)
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    >>> len(loader), [len(xb) for xb, yb in loader]
    (3, [4, 4, 2])
    >>> [yb.tolist() for xb, yb in DataLoader(ds, batch_size=4, num_workers=2)]
    [[0, 1, 0, 1], [0, 1, 0, 1], [0, 1]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, seed=None, drop_last=False, sampler=None, collate_fn=None,
                 num_workers=0, timeout=0, worker_init_fn=None, multiprocessing_context=None, *, prefetch_factor=None,
                 persistent_workers=False, in_order=True):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                "DataLoader dataset must define __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(
            batch_size, numbers.Integral
        ):
            raise TypeError(f"DataLoader batch_size must be an int, got {batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"DataLoader batch_size must be positive, got {batch_size}")
        if seed is not None and (
            isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)
        ):
            raise TypeError(f"DataLoader seed must be an int or None, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"DataLoader seed must be non-negative, got {seed}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = _check_bool("shuffle", shuffle)
        self.drop_last = _check_bool("drop_last", drop_last)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        # the workers' base seeds: a child stream, so that drawing them leaves the shuffles as without workers
        self._seed_rng = np.random.default_rng(self._rng.bit_generator.seed_seq.spawn(1)[0])
        # an iterable of indices per epoch (a DistributedSampler), drawn anew by each iter(), as PyTorch's
        if sampler is not None and self.shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other; the sampler decides the order")
        self.sampler = sampler
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader collate_fn must be callable, got {collate_fn!r}")
        self.collate_fn = collate_fn  # list of samples -> batch; None: collate (PyTorch's default_collate)
        self._workers_options(num_workers, timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
                              persistent_workers, in_order)
        self._pool = None  # the persistent workers, once started

    def _workers_options(self, num_workers, timeout, worker_init_fn, context, prefetch_factor, persistent, in_order):
        # PyTorch's checks and messages
        if isinstance(num_workers, (bool, np.bool_)) or not isinstance(num_workers, numbers.Integral):
            raise TypeError(f"DataLoader num_workers must be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if isinstance(timeout, (bool, np.bool_)) or not isinstance(timeout, numbers.Real):
            raise TypeError(f"DataLoader timeout must be a number of seconds, got {timeout!r}")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if prefetch_factor is not None:
            if isinstance(prefetch_factor, (bool, np.bool_)) or not isinstance(prefetch_factor, numbers.Integral):
                raise TypeError(f"DataLoader prefetch_factor must be an int, got {prefetch_factor!r}")
            if prefetch_factor < 0:
                raise ValueError("prefetch_factor option should be non-negative")
            if prefetch_factor == 0:  # PyTorch asserts prefetch_factor > 0 when the workers start
                raise ValueError("prefetch_factor must be positive: each worker needs a batch to work on")
        if _check_bool("persistent_workers", persistent) and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"DataLoader worker_init_fn must be callable, got {worker_init_fn!r}")
        if context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                             f"but got num_workers={num_workers}")
        self.num_workers = int(num_workers)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = None if context is None else _context(context)
        self.prefetch_factor = (2 if prefetch_factor is None else int(prefetch_factor)) if num_workers else None
        self.persistent_workers = bool(persistent)
        self.in_order = _check_bool("in_order", in_order)

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        full, rest = divmod(n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        n = len(self.dataset)
        # Drawn here rather than lazily so every iter() call consumes exactly one
        # epoch of randomness, even if the caller stops the epoch early.
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.int64)
        else:
            order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        if not self.num_workers:
            return self._batches(order)
        base_seed = int(self._seed_rng.integers(2**62))
        batches = [order[start : start + self.batch_size] for start in range(0, len(self) * self.batch_size,
                                                                            self.batch_size)]
        pool = self._pool
        if pool is None or pool.closed:
            pool = Pool(functools.partial(_fetch, self.dataset, self.collate_fn), self.dataset, self.num_workers,
                        base_seed, self.worker_init_fn, self.multiprocessing_context or default_context())
            if self.persistent_workers:
                self._pool = pool
        return WorkerIterator(self, batches, pool, owns_pool=not self.persistent_workers)

    def _batches(self, order):
        stop = len(self) * self.batch_size
        for start in range(0, stop, self.batch_size):
            yield _fetch(self.dataset, self.collate_fn, order[start : start + self.batch_size])

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown()
