"""Map-style datasets: the ``Dataset`` protocol and ``TensorDataset``."""

import numpy as np

from chainrule.core.tensor import Tensor

__all__ = ["Dataset", "TensorDataset"]


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
