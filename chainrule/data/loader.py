"""``DataLoader``: deterministic, seedable mini-batching over a dataset."""

import numbers
from collections.abc import Mapping

import numpy as np

from chainrule.core.tensor import Tensor
from chainrule.data.dataset import TensorDataset
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


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    With ``shuffle=True`` a fresh permutation is drawn each epoch from one
    ``np.random.default_rng(seed)``, so epochs differ from each other while two
    loaders built with the same seed yield identical batches. ``collate_fn`` turns each list of samples
    into a batch (default :func:`collate`); ``drop_last`` drops a short final batch. A ``sampler``
    (an iterable of indices, such as :class:`DistributedSampler`) decides the order instead, read anew
    each epoch.

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(10), np.arange(10) % 2)
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    >>> len(loader), [len(xb) for xb, yb in loader]
    (3, [4, 4, 2])
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, seed=None, drop_last=False, sampler=None, collate_fn=None):
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
        # an iterable of indices per epoch (a DistributedSampler), drawn anew by each iter(), as PyTorch's
        if sampler is not None and self.shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other; the sampler decides the order")
        self.sampler = sampler
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader collate_fn must be callable, got {collate_fn!r}")
        self.collate_fn = collate_fn  # list of samples -> batch; None: collate (PyTorch's default_collate)

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        full, rest = divmod(n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        n = len(self.dataset)
        # Drawn here rather than lazily so every iter() call consumes exactly one
        # epoch of randomness, even if the caller stops the epoch early.
        if self.sampler is not None:
            return self._batches(np.fromiter(self.sampler, dtype=np.int64))
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        return self._batches(order)

    def _batches(self, order):
        stop = len(self) * self.batch_size
        for start in range(0, stop, self.batch_size):
            yield self._fetch(order[start : start + self.batch_size])

    def _fetch(self, indices):
        # Only the stock __getitem__ may be bypassed: a subclass overriding it
        # (say, for augmentation) must see every sample.
        if self.collate_fn is not None:
            return self.collate_fn([self.dataset[int(i)] for i in indices])
        if type(self.dataset).__getitem__ is TensorDataset.__getitem__:
            return self.dataset._take(indices)
        return collate([self.dataset[int(i)] for i in indices])
