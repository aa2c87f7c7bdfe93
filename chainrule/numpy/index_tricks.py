"""``r_`` and ``c_`` of ``chainrule.numpy``: NumPy's concatenation by index, recording when given Tensors.

NumPy's own ``np.r_[x, y]`` converts each item with ``np.array`` before it
concatenates, so it cannot keep a graph (it warns, or raises inside a
transformation); ``chainrule.numpy.r_[x, y]`` concatenates the Tensors on the tape.
"""

from __future__ import annotations

import numpy as np

from ..core.shapes import cast
from ..core.tensor import Tensor
from ..ops.join import concatenate, stack
from ..ops.shape import reshape, transpose

__all__ = ["r_", "c_"]


def _holds_tensor(item):
    return isinstance(item, Tensor) or (isinstance(item, (list, tuple)) and any(_holds_tensor(o) for o in item))


def _as_tensor(item):
    if isinstance(item, (list, tuple)):
        return stack([_as_tensor(o) for o in item])
    return item if isinstance(item, Tensor) else Tensor(np.asarray(item))


class _Concatenator:
    """``obj[a, b, ...]``: the items as arrays of at least ``ndmin`` axes, joined along ``axis`` (as NumPy's
    ``AxisConcatenator``: a 1-d item of ``c_`` becomes a column). Slices and string directives are NumPy's
    own when no Tensor is given; with Tensors, string directives are refused."""

    def __init__(self, numpy_obj, axis, ndmin, trans1d):
        self.numpy_obj, self.axis, self.ndmin, self.trans1d = numpy_obj, axis, ndmin, trans1d

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not any(_holds_tensor(item) for item in items):
            return self.numpy_obj[key]
        if any(isinstance(item, str) for item in items):
            raise TypeError(f"chainrule.numpy.{self.name}: string directives ('r', '0,2', ...) are not supported "
                            f"with Tensors; reshape the Tensors and use cr.concatenate instead")
        parts, scalars = [], []
        for item in items:
            if isinstance(item, slice):
                parts.append(Tensor(self.numpy_obj[item]))
                continue
            scalars.append(len(parts) if np.ndim(item) == 0 and not isinstance(item, Tensor) else None)
            parts.append(self._shaped(_as_tensor(item)))
        arrays = [p for k, p in enumerate(parts) if k not in scalars]
        dtype = np.result_type(*[p.dtype for p in arrays]) if arrays else None
        if dtype is not None:  # as NumPy: a Python number takes the arrays' dtype
            parts = [cast(p, dtype) if k in scalars else p for k, p in enumerate(parts)]
        return concatenate(parts, axis=self.axis)

    def _shaped(self, t):
        nd = t.ndim
        if nd >= self.ndmin:
            return t
        t = reshape(t, (1,) * (self.ndmin - nd) + tuple(t.shape))
        if self.trans1d != -1:
            k2, k1 = self.ndmin - nd, self.trans1d
            if k1 < 0:
                k1 += k2 + 1
            axes = list(range(self.ndmin))
            t = transpose(t, axes[:k1] + axes[k2:] + axes[k1:k2])
        return t

    def __len__(self):
        return 0


class _R(_Concatenator):
    """``r_[x, y]``: concatenate along the first axis, recording for Tensors.

    >>> import chainrule as cr, chainrule.numpy as cnp
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cnp.r_[x, x * 3, 0.0]
    >>> y
    tensor([1., 2., 3., 6., 0.], grad_fn=<concatenate>)
    >>> y.sum().backward(); x.grad
    tensor([4., 4.])
    """

    name = "r_"


class _C(_Concatenator):
    """``c_[x, y]``: 1-d items as columns, concatenated along the last axis, recording for Tensors.

    >>> import chainrule as cr, chainrule.numpy as cnp
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cnp.c_[x, x * x].shape
    (2, 2)
    """

    name = "c_"


r_ = _R(np.r_, 0, 1, -1)
c_ = _C(np.c_, -1, 2, 0)
