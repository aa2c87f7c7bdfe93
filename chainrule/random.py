"""Seeded random Tensors: ``cr.random.seed(0)`` then ``randn``, ``rand``, ``normal``, ``uniform``, ``randint``."""

from __future__ import annotations

import numpy as np

from .creation import _make

__all__ = ["seed", "get_rng", "randn", "rand", "normal", "uniform", "randint", "permutation"]

_rng = np.random.default_rng()


def seed(n: int) -> None:
    """Reset chainrule's generator, so later draws (and default layer initialisations) repeat.

    >>> import chainrule as cr
    >>> cr.random.seed(0); a = cr.random.randn(3)
    >>> cr.random.seed(0); b = cr.random.randn(3)
    >>> bool((a.data == b.data).all())
    True
    """
    global _rng
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"cr.random.seed: the seed must be a non-negative integer, got {n!r}")
    _rng = np.random.default_rng(int(n))


def get_rng() -> np.random.Generator:
    """The generator behind ``cr.random`` (layers draw their initial weights from it)."""
    return _rng


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _cast(arr, dtype):
    return arr if dtype is None else arr.astype(dtype)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples of ``shape`` (``randn(2, 3)`` or ``randn((2, 3))``)."""
    return _make(_cast(_rng.standard_normal(_shape(shape)), dtype), requires_grad)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) of ``shape``."""
    return _make(_cast(_rng.random(_shape(shape)), dtype), requires_grad)


def normal(loc=0.0, scale=1.0, size=None, dtype=None, requires_grad=False):
    """Normal samples, NumPy's argument order: ``normal(loc, scale, size)``."""
    return _make(_cast(np.asarray(_rng.normal(loc, scale, size)), dtype), requires_grad)


def uniform(low=0.0, high=1.0, size=None, dtype=None, requires_grad=False):
    """Uniform samples in [low, high), NumPy's argument order."""
    return _make(_cast(np.asarray(_rng.uniform(low, high, size)), dtype), requires_grad)


def randint(low, high=None, size=None, dtype=np.int64):
    """Random integers in [low, high), as ``Generator.integers``."""
    return _make(np.asarray(_rng.integers(low, high, size, dtype=dtype)), False)


def permutation(n):
    """A random permutation of ``range(n)`` (or of an array's first axis)."""
    return _make(np.asarray(_rng.permutation(n)), False)
