"""Elementwise primitives: arithmetic, transcendental functions and activations, with their rules."""

from __future__ import annotations

import math

import numpy as np

from ..core.primitive import Primitive
from ..core.tensor import Tensor
from ..extend import binary, elementwise, nondifferentiable

__all__ = ["add", "subtract", "negative", "positive", "multiply", "divide", "power", "exp", "expm1", "exp2", "log",
           "log1p", "log2", "log10", "sqrt", "cbrt", "square", "reciprocal", "sin", "cos", "tan", "arcsin",
           "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot",
           "sigmoid", "relu", "abs", "logaddexp", "maximum", "minimum", "where", "clip", "sign", "floor", "ceil",
           "round", "trunc", "rint", "floor_divide", "mod", "equal", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isfinite", "isnan", "isinf",
           "signbit", "invert", "bitwise_and", "bitwise_or", "bitwise_xor"]

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
    # d/dx x^y = y x^(y-1)
    if type(y) is int or type(y) is float:  # a Python exponent (x ** 2): the common case, no mask
        return y * x ** (y - 1) if y != 0 else _zeros_like(x)
    # NOTE: at x = 0 with y = 0 the derivative is 0 (x^0 = 1 is constant), not 0 · 0^(-1) = nan:
    # the base is taken as 1 there, so that no derivative of any order ever sees 0^(-1)
    at0 = (x == 0) & (y == 0)
    return y * where(at0, 1, x) ** (y - 1)


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


def _clip_mask(x, lo, hi, which):
    """Where the gradient of ``clip`` goes: to x (which=0), to lo (1) or to hi (2); exactly one of them.

    NOTE: as in PyTorch, x gets it for lo <= x <= hi (the bounds included), lo for x < lo, hi for x > hi
    and wherever hi < lo (the result is then hi, as NumPy's); a NaN x sends it nowhere.
    """
    if which == 0:
        m = np.ones(np.shape(x), dtype=bool)
        if lo is not None:
            m = m & (x >= lo)
        if hi is not None:
            m = m & (x <= hi)
        return m
    if which == 1:
        return (x < lo) & (lo <= hi) if hi is not None else x < lo
    return (x > hi) | (hi < lo) if lo is not None else x > hi


_clip_pass = nondifferentiable("_clip_mask", _clip_mask)


def _clip(x, lo, hi):
    return np.clip(x, lo, hi)


clip_p = Primitive(
    "clip",
    _clip,
    # x̄, lo̅, hi̅ = ḡ where that input is the result (the masks partition the output)
    vjp=(
        lambda g, ans, x, lo, hi: where(_clip_pass(x, lo, hi, which=0), g, 0),
        lambda g, ans, x, lo, hi: where(_clip_pass(x, lo, hi, which=1), g, 0),
        lambda g, ans, x, lo, hi: where(_clip_pass(x, lo, hi, which=2), g, 0),
    ),
    jvp=(
        lambda t, ans, x, lo, hi: where(_clip_pass(x, lo, hi, which=0), t, 0),
        lambda t, ans, x, lo, hi: where(_clip_pass(x, lo, hi, which=1), t, 0),
        lambda t, ans, x, lo, hi: where(_clip_pass(x, lo, hi, which=2), t, 0),
    ),
    save=("args",),
)

_NoValue = np._NoValue


def _bound(b):
    return b if b is None or isinstance(b, (Tensor, np.ndarray, int, float, np.generic)) else np.asarray(b)


def clip(a, a_min=_NoValue, a_max=_NoValue, out=None, *, min=_NoValue, max=_NoValue):
    """Limit values to [a_min, a_max] with ``np.clip``'s arguments (NumPy 2.1's ``min=``/``max=`` too).

    The bounds may be numbers, arrays or Tensors, broadcast against ``a``; the result is
    differentiable in each of them (where the bound is the result, as in PyTorch). A bound of
    None is no bound; with neither, the result is a copy of ``a``.

    >>> import chainrule as cr
    >>> cr.clip(cr.tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
    tensor([0. , 0.5, 1. ])
    >>> lo = cr.tensor(0.0, requires_grad=True)
    >>> cr.clip(cr.tensor([-2.0, 0.5]), lo, 1.0).sum().backward()
    >>> lo.grad
    tensor(1.)
    """
    if a_min is _NoValue and a_max is _NoValue:  # NumPy's rules, message for message
        a_min = None if min is _NoValue else min
        a_max = None if max is _NoValue else max
    elif a_min is _NoValue:
        raise TypeError("clip() missing 1 required positional argument: 'a_min'")
    elif a_max is _NoValue:
        raise TypeError("clip() missing 1 required positional argument: 'a_max'")
    elif min is not _NoValue or max is not _NoValue:
        raise ValueError(
            "clip: passing `min` or `max` keyword argument when `a_min` and `a_max` are provided is forbidden"
        )
    if out is not None:
        raise TypeError("clip(..., out=...): chainrule cannot write into an existing array or Tensor; "
                        "assign the result instead (y = clip(...))")
    if a_min is None and a_max is None:
        return positive(a)
    return clip_p(a, _bound(a_min), _bound(a_max))


def _clip_method(self, min=None, max=None, out=None):
    """``Tensor.clip``: ``ndarray.clip``'s arguments (``min``, ``max``, positional or by keyword)."""
    return clip(self, min, max, out)


# ---- the one list of non-differentiable elementwise operations ------------------
sign = nondifferentiable("sign", np.sign)
# A boolean mask: ḡ · mask casts it inside the multiply, saving a pass over the array (as ḡ ⊙ [x > 0] by hand)
_positive_mask = nondifferentiable("_positive_mask", lambda x: x > 0)
_zeros_like = nondifferentiable("_zeros_like", np.zeros_like)  # an exact zero derivative, of x's shape and dtype
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
