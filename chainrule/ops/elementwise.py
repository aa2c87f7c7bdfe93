"""Elementwise primitives: arithmetic, transcendental functions and activations, with their rules."""

from __future__ import annotations

import math

import numpy as np

from ..core.primitive import Primitive
from ..extend import binary, elementwise, nondifferentiable

# ---- arithmetic -----------------------------------------------------------------
add = Primitive(
    "add",
    np.add,
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g),  # add distributes the gradient
    jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: t),
    save=(),
)
subtract = Primitive(
    "subtract",
    np.subtract,
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -g),
    jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: -t),
    save=(),
)
negative = Primitive(
    "negative",
    np.negative,
    vjp=(lambda g, ans, x: -g,),
    jvp=(lambda t, ans, x: -t,),
    save=(),
)
positive = Primitive(
    "positive",
    np.positive,
    vjp=(lambda g, ans, x: g,),
    jvp=(lambda t, ans, x: t,),
    save=(),
)
# multiply switches: each input's adjoint is the other input times ḡ
multiply = binary("multiply", np.multiply, lambda ans, x, y: y, lambda ans, x, y: x)
divide = Primitive(
    "divide",
    np.true_divide,
    vjp=(
        lambda g, ans, x, y: g / y,  # ∂(x/y)/∂x = 1/y
        lambda g, ans, x, y: -g * ans / y,  # ∂(x/y)/∂y = -x/y² = -ans/y
    ),
    jvp=(lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y),
    save=("args", "ans"),
)


def _dpow_dx(ans, x, y):
    return y * x ** (y - 1)  # d/dx x^y = y x^(y-1)


def _dpow_dy(ans, x, y):
    # d/dy x^y = x^y log x; NOTE: taken as 0 at x = 0 (the limit for y > 0), as PyTorch does
    zero = x == 0
    return where(zero, 0, ans * log(where(zero, 1, x)))


power = binary("power", np.power, _dpow_dx, _dpow_dy, save=("args", "ans"))

# ---- exponentials and logarithms ------------------------------------------------
exp = elementwise("exp", np.exp, lambda ans, x: ans, save=("ans",))  # d/dx eˣ = eˣ
expm1 = elementwise("expm1", np.expm1, lambda ans, x: ans + 1, save=("ans",))  # d/dx (eˣ-1) = eˣ
exp2 = elementwise("exp2", np.exp2, lambda ans, x: ans * math.log(2.0), save=("ans",))
log = elementwise("log", np.log, lambda ans, x: 1 / x)  # d/dx ln x = 1/x
log1p = elementwise("log1p", np.log1p, lambda ans, x: 1 / (x + 1))
log2 = elementwise("log2", np.log2, lambda ans, x: 1 / (x * math.log(2.0)))
log10 = elementwise("log10", np.log10, lambda ans, x: 1 / (x * math.log(10.0)))
sqrt = elementwise("sqrt", np.sqrt, lambda ans, x: 0.5 / ans, save=("ans",))  # d/dx √x = 1/(2√x)
cbrt = elementwise("cbrt", np.cbrt, lambda ans, x: 1 / (3 * ans * ans), save=("ans",))
square = elementwise("square", np.square, lambda ans, x: 2 * x)
reciprocal = elementwise("reciprocal", np.reciprocal, lambda ans, x: -ans * ans, save=("ans",))

# ---- trigonometric and hyperbolic ----------------------------------------------
sin = elementwise("sin", np.sin, lambda ans, x: cos(x))
cos = elementwise("cos", np.cos, lambda ans, x: -sin(x))
tan = elementwise("tan", np.tan, lambda ans, x: 1 + ans * ans, save=("ans",))  # sec² = 1 + tan²
arcsin = elementwise("arcsin", np.arcsin, lambda ans, x: 1 / sqrt(1 - x * x))
arccos = elementwise("arccos", np.arccos, lambda ans, x: -1 / sqrt(1 - x * x))
arctan = elementwise("arctan", np.arctan, lambda ans, x: 1 / (1 + x * x))
sinh = elementwise("sinh", np.sinh, lambda ans, x: cosh(x))
cosh = elementwise("cosh", np.cosh, lambda ans, x: sinh(x))
tanh = elementwise("tanh", np.tanh, lambda ans, x: 1 - ans * ans, save=("ans",))  # 1 - tanh²
arcsinh = elementwise("arcsinh", np.arcsinh, lambda ans, x: 1 / sqrt(x * x + 1))
arccosh = elementwise("arccosh", np.arccosh, lambda ans, x: 1 / sqrt(x * x - 1))
arctanh = elementwise("arctanh", np.arctanh, lambda ans, x: 1 / (1 - x * x))
arctan2 = binary(
    "arctan2",
    np.arctan2,
    lambda ans, y, x: x / (x * x + y * y),  # ∂/∂y atan2(y, x)
    lambda ans, y, x: -y / (x * x + y * y),
)
hypot = binary("hypot", np.hypot, lambda ans, x, y: x / ans, lambda ans, x, y: y / ans, save=("args", "ans"))


# ---- activations ----------------------------------------------------------------
def _sigmoid(x):
    # Stable at ±1000: exp is only ever taken of a non-positive number.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid = elementwise("sigmoid", _sigmoid, lambda ans, x: ans * (1 - ans), save=("ans",))  # σ' = σ(1-σ)


def _relu(x):
    return np.maximum(x, 0)


relu = elementwise("relu", _relu, lambda ans, x: _positive_mask(x))  # NOTE: relu'(0) = 0
abs = elementwise("abs", np.abs, lambda ans, x: sign(x))  # NOTE: abs'(0) = sign(0) = 0


def _logaddexp(x, y):
    return np.logaddexp(x, y)


logaddexp = binary(
    "logaddexp",
    _logaddexp,
    lambda ans, x, y: exp(x - ans),  # ∂/∂x log(eˣ + eʸ) = eˣ / (eˣ + eʸ)
    lambda ans, x, y: exp(y - ans),
    save=("args", "ans"),
)


# ---- maximum / minimum: ties split the gradient evenly --------------------------
def _tie_weights(x, y):
    # 1 where x wins, 1/2 at a tie, 0 where y wins, in the result's dtype
    dt = np.result_type(x, y)
    if dt.kind != "f":
        dt = np.float64
    return ((x > y) + 0.5 * (x == y)).astype(dt, copy=False)


_max_weight = nondifferentiable("_maximum_weight", _tie_weights)
_min_weight = nondifferentiable("_minimum_weight", lambda x, y: _tie_weights(y, x))

maximum = binary(
    "maximum",
    np.maximum,
    lambda ans, x, y: _max_weight(x, y),  # NOTE: ties split evenly (½ each)
    lambda ans, x, y: _max_weight(y, x),
)
minimum = binary(
    "minimum",
    np.minimum,
    lambda ans, x, y: _min_weight(x, y),  # NOTE: ties split evenly (½ each)
    lambda ans, x, y: _min_weight(y, x),
)

# ---- selection ------------------------------------------------------------------
where = Primitive(
    "where",
    np.where,
    vjp=(
        None,  # the condition has no derivative
        lambda g, ans, c, x, y: where(c, g, 0),  # x̄ = ḡ where the condition holds
        lambda g, ans, c, x, y: where(c, 0, g),
    ),
    jvp=(None, lambda t, ans, c, x, y: where(c, t, 0), lambda t, ans, c, x, y: where(c, 0, t)),
    save=("args",),
)


def _clip_mask(x, lo, hi):
    m = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        m &= x >= lo
    if hi is not None:
        m &= x <= hi
    return m


_clip_pass = nondifferentiable("_clip_mask", _clip_mask)


def _clip(x, lo=None, hi=None):
    return np.clip(x, lo, hi)


# NOTE: at the bounds the gradient passes through (x̄ = ḡ for lo <= x <= hi), as in PyTorch
clip_p = Primitive(
    "clip",
    _clip,
    vjp=(lambda g, ans, x, lo=None, hi=None: where(_clip_pass(x, lo, hi), g, 0),),
    jvp=(lambda t, ans, x, lo=None, hi=None: where(_clip_pass(x, lo, hi), t, 0),),
    save=("args",),
)


def clip(x, a_min=None, a_max=None):
    """Limit values to [a_min, a_max], as ``np.clip`` (the bounds are constants).

    >>> import chainrule as cr
    >>> cr.clip(cr.tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
    tensor([0. , 0.5, 1. ])
    """
    if a_min is None and a_max is None:
        raise ValueError("clip: give at least one of a_min and a_max")
    lo = a_min.data if hasattr(a_min, "_node") else a_min
    hi = a_max.data if hasattr(a_max, "_node") else a_max
    return clip_p(x, lo=lo, hi=hi)


# ---- the one list of non-differentiable elementwise operations ------------------
sign = nondifferentiable("sign", np.sign)
_positive_mask = nondifferentiable("_positive_mask", lambda x: (x > 0).astype(x.dtype, copy=False))
floor = nondifferentiable("floor", np.floor)
ceil = nondifferentiable("ceil", np.ceil)
round = nondifferentiable("round", np.round)
trunc = nondifferentiable("trunc", np.trunc)
rint = nondifferentiable("rint", np.rint)
floor_divide = nondifferentiable("floor_divide", np.floor_divide)
mod = nondifferentiable("mod", np.mod)
equal = nondifferentiable("equal", np.equal)
not_equal = nondifferentiable("not_equal", np.not_equal)
less = nondifferentiable("less", np.less)
less_equal = nondifferentiable("less_equal", np.less_equal)
greater = nondifferentiable("greater", np.greater)
greater_equal = nondifferentiable("greater_equal", np.greater_equal)
logical_and = nondifferentiable("logical_and", np.logical_and)
logical_or = nondifferentiable("logical_or", np.logical_or)
logical_xor = nondifferentiable("logical_xor", np.logical_xor)
logical_not = nondifferentiable("logical_not", np.logical_not)
isfinite = nondifferentiable("isfinite", np.isfinite)
isnan = nondifferentiable("isnan", np.isnan)
isinf = nondifferentiable("isinf", np.isinf)
signbit = nondifferentiable("signbit", np.signbit)
invert = nondifferentiable("invert", np.invert)
bitwise_and = nondifferentiable("bitwise_and", np.bitwise_and)
bitwise_or = nondifferentiable("bitwise_or", np.bitwise_or)
bitwise_xor = nondifferentiable("bitwise_xor", np.bitwise_xor)
