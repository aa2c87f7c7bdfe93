"""Shape primitives: reshape, transpose, expand_dims, squeeze, concatenate, stack, split, pad, ..."""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive


def _reshape(x, shape):
    return np.reshape(x, shape)


reshape_p = Primitive(
    "reshape",
    _reshape,
    vjp=(lambda g, ans, x, shape: reshape_p(g, shape=np.shape(x)),),  # a reshape back
    jvp=(lambda t, ans, x, shape: reshape_p(t, shape=shape),),
    save=("args",),
)


def reshape(x, *shape):
    """Reshape like ``np.reshape`` (one -1 allowed); also ``t.reshape(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return reshape_p(x, shape=tuple(int(s) for s in shape))


METHODS = {"reshape": reshape}
