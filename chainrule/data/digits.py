"""The 8x8 handwritten digits (1797 samples) bundled from scikit-learn."""

import gzip
import importlib.resources

import numpy as np

__all__ = ["load_digits"]

_N_PIXELS = 64
_TEST_FRACTION = 0.2
_SPLIT_SEED = 0

# Parsed once per process: loadtxt on the CSV takes tens of milliseconds.
_CACHE = None


def _read_bundled():
    resource = importlib.resources.files("chainrule.data").joinpath("digits.csv.gz")
    with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != _N_PIXELS + 1:
        raise ValueError(
            f"bundled digits.csv.gz has shape {table.shape}, expected (n, {_N_PIXELS + 1})"
        )
    images = table[:, :_N_PIXELS].astype(np.float32) / np.float32(16.0)
    labels = table[:, _N_PIXELS].astype(np.int64)
    return images, labels


def _split(images, labels):
    n = len(labels)
    order = np.random.default_rng(_SPLIT_SEED).permutation(n)
    n_test = int(round(_TEST_FRACTION * n))
    test, train = order[:n_test], order[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])


def load_digits():
    """Return ``((X_train, y_train), (X_test, y_test))`` for the 8x8 digits.

    X is float32 in [0, 1] with shape (n, 64); y is int64 in 0..9. The split
    is fixed: a seed-0 permutation, the first 20% (rounded) form the test set.
    Each call returns fresh copies, so callers may modify them freely.

    >>> (X_train, y_train), (X_test, y_test) = load_digits()
    >>> X_train.shape, X_test.shape, X_train.dtype.name, y_train.dtype.name
    ((1438, 64), (359, 64), 'float32', 'int64')
    """
    global _CACHE
    if _CACHE is None:
        _CACHE = _split(*_read_bundled())
    (x_tr, y_tr), (x_te, y_te) = _CACHE
    return (x_tr.copy(), y_tr.copy()), (x_te.copy(), y_te.copy())
