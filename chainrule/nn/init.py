"""Weight initialisations with PyTorch's names and formulas, drawing from ``cr.random``'s seeded generator."""

from __future__ import annotations

import math

import numpy as np

from .. import random as _random
from ..core.tensor import Tensor
from ..core.writes import note_write
from .module import Parameter

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]


def _fill(tensor, values):
    """Write ``values`` into the Tensor's array in place, keeping its dtype (float32 stays float32).

    The write is noted (``core.writes``), so a backward pass through a graph recorded before it
    refuses to run rather than differentiate with the new values, as PyTorch does.
    """
    arr = tensor.data if isinstance(tensor, Tensor) else tensor
    arr[...] = values
    note_write(arr)
    return tensor


def _fans(tensor):
    """fan_in and fan_out as PyTorch counts them: dims 1 and 0, times the receptive field size."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a Tensor of at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (``"relu"`` → √2, ``"tanh"`` → 5/3), as in PyTorch.

    >>> from chainrule.nn import init
    >>> round(init.calculate_gain("relu"), 4)
    1.4142
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "conv_transpose2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples from U(a, b), in place."""
    return _fill(tensor, _random.get_rng().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std²), in place."""
    return _fill(tensor, _random.get_rng().normal(mean, std, tensor.shape))


def constant_(tensor, val):
    """Fill with ``val``, in place."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0, in place."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1, in place."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot: U(-b, b) with b = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Glorot: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"kaiming init: cannot initialise a Tensor of shape {tensor.shape} (fan is 0)")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: U(-b, b) with b = gain·√(3 / fan). ``a=√5`` gives PyTorch's Linear/Conv default, b = 1/√fan_in.

    >>> import numpy as np, math
    >>> from chainrule.nn import init
    >>> w = init.kaiming_uniform_(np.zeros((4, 100), dtype=np.float32), a=math.sqrt(5))
    >>> bool(np.abs(w).max() <= 0.1), w.dtype
    (True, dtype('float32'))
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: N(0, σ²) with σ = gain / √fan."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def fan_in(tensor):
    """The fan-in of a weight of this shape (used by layers for their bias bound)."""
    return _fans(tensor)[0]


def _empty_param(shape, dtype):
    """A float parameter array of ``shape`` to be filled by an initialiser."""
    return np.empty(shape, dtype=np.dtype(np.float32 if dtype is None else dtype))


def _add_weight_and_bias(module, shape, bias, dtype):
    """Give ``module`` a ``weight`` of ``shape`` and a ``bias`` of ``shape[:1]`` (or a ``None`` one), to be filled."""
    module.weight = Parameter(_empty_param(shape, dtype))
    if bias:
        module.bias = Parameter(_empty_param(shape[:1], dtype))
    else:
        module.register_parameter("bias", None)


def _reset_weight_and_bias(weight, bias):
    """PyTorch's default for Linear and Conv2d: weight ~ kaiming_uniform(a=√5) = U(±1/√fan_in), bias ~ U(±1/√fan_in)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan = fan_in(weight)
        bound = 1 / math.sqrt(fan) if fan > 0 else 0
        uniform_(bias, -bound, bound)
