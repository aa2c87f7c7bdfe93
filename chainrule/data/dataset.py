"""Map-style datasets: the ``Dataset`` protocol, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``."""

import numpy as np

from chainrule import random as _random
from chainrule.core.tensor import Tensor

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class for map-style datasets: implement ``__len__`` and ``__getitem__``.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return i * i
    >>> [Squares()[i] for i in range(4)]
    [0, 1, 4, 9]
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


class TensorDataset(Dataset):
    """Dataset whose i-th sample is ``(a[i] for a in arrays)``.

    Accepts NumPy arrays (or array-likes) and chainrule Tensors; fields that
    were Tensors come back as Tensors, the others as NumPy arrays.

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(6).reshape(3, 2), np.array([0, 1, 0]))
    >>> len(ds), ds[1][0].tolist(), int(ds[1][1])
    (3, [2, 3], 1)
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self._was_tensor = tuple(isinstance(a, Tensor) for a in arrays)
        self._arrays = tuple(
            a.data if t else np.asarray(a) for a, t in zip(arrays, self._was_tensor)
        )
        shapes = [a.shape for a in self._arrays]
        if any(len(s) == 0 for s in shapes):
            raise ValueError(
                f"TensorDataset arrays need a first (sample) dimension; got shapes {shapes}"
            )
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(
                "TensorDataset arrays must have the same first dimension; "
                f"got shapes {shapes}"
            )

    @property
    def arrays(self):
        """The stored NumPy arrays (Tensors are stored as their ``.data``)."""
        return self._arrays

    def __len__(self):
        return self._arrays[0].shape[0]

    def __getitem__(self, index):
        return self._take(index)

    def _take(self, index):
        # One fancy-index per field: the whole batch is gathered in C, which is
        # what makes DataLoader fast on TensorDataset.
        return tuple(
            Tensor(a[index]) if t else a[index]
            for a, t in zip(self._arrays, self._was_tensor)
        )


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> import numpy as np
    >>> part = Subset(TensorDataset(np.arange(10) * 10), [3, 1])
    >>> len(part), int(part[0][0]), int(part[1][0])
    (2, 30, 10)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        n = len(dataset)
        bad = [i for i in self.indices if not -n <= i < n]
        if bad:
            raise IndexError(f"Subset: index {bad[0]} is out of range for a dataset of {n} samples")

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[self.indices[int(i)]] for i in index]
        return self.dataset[self.indices[index]]


class ConcatDataset(Dataset):
    """Several datasets one after the other: sample ``i`` of the first, then of the second, ...

    >>> import numpy as np
    >>> both = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
    >>> len(both), int(both[3][0]), int(both[-1][0])
    (5, 10, 11)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        if index < 0:
            index += n
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths (or fractions
    summing to 1, the remainder given one each to the first splits, as PyTorch does).

    ``generator``: a seed, a ``np.random.Generator``, or None for ``cr.random``'s generator (so
    ``cr.random.seed`` makes the split repeat).

    >>> import numpy as np
    >>> train, test = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], generator=0)
    >>> len(train), len(test), sorted(int(s[0]) for s in list(train) + list(test)) == list(range(10))
    (8, 2, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1.0) < 1e-9:
        if any(not 0.0 <= x <= 1.0 for x in lengths):
            raise ValueError(f"random_split: fractions must be in [0, 1], got {lengths}")
        sizes = [int(np.floor(n * x)) for x in lengths]
        for k in range(n - sum(sizes)):
            sizes[k % len(sizes)] += 1
        lengths = sizes
    if any(isinstance(x, float) for x in lengths) or any(int(x) < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints, or fractions summing to 1; got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples")
    if generator is None:
        rng = _random.get_rng()
    elif isinstance(generator, np.random.Generator):
        rng = generator
    else:
        rng = np.random.default_rng(generator)
    order = rng.permutation(n).tolist()
    out = []
    start = 0
    for k in lengths:
        out.append(Subset(dataset, order[start : start + int(k)]))
        start += int(k)
    return out
