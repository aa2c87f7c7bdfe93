"""Seeded random Tensors: ``cr.random.seed(0)`` then ``randn``, ``rand``, ``normal``, ``uniform``, ``randint``."""

from __future__ import annotations

import numpy as np

from .core.batching import Batched, make, random_levels
from .core.shapes import shape_of
from .core.tensor import Tensor, wrap
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


def _draw(sample, shape, requires_grad=False, who="cr.random"):
    """``sample(shape)`` as a Tensor; inside ``vmap`` one independent draw per example of every level whose
    ``randomness`` is "different" (the default), one shared draw for "same", an error for "error"."""
    levels = random_levels()
    for _, _, mode in levels:
        if mode == "error":
            raise RuntimeError(f"{who}: a random draw inside vmap(randomness='error'); pass randomness='different' "
                               f"(independent per example) or 'same' (one draw shared by the batch)")
    levels = [(tag, size) for tag, size, mode in levels if mode == "different"]
    if not levels:
        return _make(np.asarray(sample(shape)), requires_grad)
    if requires_grad:
        raise RuntimeError(f"{who}: requires_grad=True inside vmap; a batched value cannot become a leaf")
    out = wrap(np.asarray(sample(tuple(size for _, size in levels) + tuple(shape))))
    for tag, _ in levels:  # innermost level first: its batch axis is the physical axis 0
        out = make(out, tag)
    return out


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _cast(arr, dtype):
    return arr if dtype is None else arr.astype(dtype)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples of ``shape`` (``randn(2, 3)`` or ``randn((2, 3))``); inside ``vmap``, one draw
    per example.

    >>> import chainrule as cr
    >>> cr.random.randn(2, 3).shape
    (2, 3)
    """
    return _draw(lambda s: _cast(_rng.standard_normal(s), dtype), _shape(shape), requires_grad, "randn")


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) of ``shape``."""
    return _draw(lambda s: _cast(_rng.random(s), dtype), _shape(shape), requires_grad, "rand")


def _size(size, *params):
    if size is not None:
        return (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return np.broadcast_shapes(*(np.shape(p) for p in params))


def normal(loc=0.0, scale=1.0, size=None, dtype=None, requires_grad=False):
    """Normal samples, NumPy's argument order: ``normal(loc, scale, size)``."""
    return _draw(lambda s: _cast(np.asarray(_rng.normal(loc, scale, s)), dtype), _size(size, loc, scale),
                 requires_grad, "normal")


def uniform(low=0.0, high=1.0, size=None, dtype=None, requires_grad=False):
    """Uniform samples in [low, high), NumPy's argument order."""
    return _draw(lambda s: _cast(np.asarray(_rng.uniform(low, high, s)), dtype), _size(size, low, high),
                 requires_grad, "uniform")


def randint(low, high=None, size=None, dtype=np.int64):
    """Random integers in [low, high), as ``Generator.integers``."""
    shape = _size(size, low) if high is None else _size(size, low, high)
    return _draw(lambda s: np.asarray(_rng.integers(low, high, s, dtype=dtype)), shape, False, "randint")


def permutation(x):
    """A random permutation of ``range(x)``, or of an array's or Tensor's first axis, as
    ``Generator.permutation``; a Tensor is permuted by a gather, so gradients flow back to it.

    Inside ``vmap`` it follows ``randomness`` as every draw here: "different" (the default) gives each example
    its own order, "same" one order for the whole batch, "error" raises.

    >>> import chainrule as cr
    >>> cr.random.seed(0); sorted(cr.random.permutation(4).tolist())
    [0, 1, 2, 3]
    >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> sorted(cr.random.permutation(x).tolist())
    [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    """
    if isinstance(x, (int, np.integer)):
        n = int(x)

        def sample(s):
            return _rng.permutation(n) if len(s) == 1 else _rng.permuted(np.broadcast_to(np.arange(n), s), axis=-1)

        return _draw(sample, (n,), False, "permutation")
    if not isinstance(x, Tensor):
        x = np.asarray(x)
    shape = shape_of(x)
    if not shape:
        raise np.exceptions.AxisError("permutation: axis 0 is out of bounds for an array of dimension 0 (pass an "
                                      "integer n for a permutation of range(n))")
    order = permutation(shape[0])  # batched inside vmap where randomness is "different"
    if isinstance(x, Tensor) or type(order) is Batched:
        return (x if isinstance(x, Tensor) else wrap(x))[order]
    return _make(x[order.data], False)
