"""Elementwise primitives: arithmetic, transcendental functions and activations, with their rules."""

from __future__ import annotations

import math

import numpy as np

from ..core.batching_rules import elementwise as _broadcasting
from ..core.complex_parts import conj, conj_of, is_complex, real
from ..core.primitive import Primitive
from ..core.tensor import Tensor
from ..extend import binary, elementwise, nondifferentiable, zeros_like
from .rounding import sign

_ndarray = np.ndarray
_np_cos = np.cos

__all__ = ["add", "subtract", "negative", "positive", "multiply", "divide", "power", "exp", "expm1", "exp2", "log",
           "log1p", "log2", "log10", "sqrt", "cbrt", "square", "reciprocal", "sin", "cos", "tan", "arcsin",
           "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot",
           "sigmoid", "relu", "abs", "logaddexp", "maximum", "minimum", "where", "clip", "equal", "not_equal", "less",
           "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
           "isfinite", "isnan", "isinf", "signbit", "invert", "bitwise_and", "bitwise_or", "bitwise_xor"]

# Every primitive here acts entry by entry on broadcast operands: each batches by broadcasting
# (``elementwise`` and ``binary`` give that rule by default). ``partials`` is the text explain
# and the graph pictures print for ∂out/∂input; ``convention`` the documented choice at a kink or tie.


def _nondiff(name, impl):
    """A non-differentiable elementwise operation (comparisons, logic, masks): a result with no graph."""
    return nondifferentiable(name, impl, batch=_broadcasting)


# ---- arithmetic -----------------------------------------------------------------
add = Primitive(
    "add",
    np.add,
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g),  # add distributes the gradient
    jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: t),
    save=(),
    partials=("1", "1"),
    operator=" + ",
    batch=_broadcasting,
    array_args=True,
)
subtract = Primitive(
    "subtract",
    np.subtract,
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -g),
    jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: -t),
    save=(),
    partials=("1", "-1"),
    operator=" - ",
    batch=_broadcasting,
    array_args=True,
)
negative = Primitive(
    "negative",
    np.negative,
    vjp=(lambda g, ans, x: -g,),
    jvp=(lambda t, ans, x: -t,),
    save=(),
    partials=("-1",),
    operator="-",
    batch=_broadcasting,
)
positive = Primitive(
    "positive",
    np.positive,
    vjp=(lambda g, ans, x: g,),
    jvp=(lambda t, ans, x: t,),
    save=(),
    partials=("1",),
    operator="+",
    batch=_broadcasting,
)


# multiply switches: each input's adjoint is ḡ times the other input (conjugated: PyTorch's complex convention).
# binary()'s rules with the partial written in: the tape's most common operation, one call fewer per edge.
def _multiply_vjp_x(g, ans, x, y):
    kind = type(y)
    if kind is _ndarray and y.dtype.kind != "c" or kind is float or kind is int:
        return g * y
    return g * conj_of(y)


def _multiply_vjp_y(g, ans, x, y):
    kind = type(x)
    if kind is _ndarray and x.dtype.kind != "c" or kind is float or kind is int:
        return g * x
    return g * conj_of(x)


multiply = Primitive(
    "multiply",
    np.multiply,
    vjp=(_multiply_vjp_x, _multiply_vjp_y),
    jvp=(lambda t, ans, x, y: t * y, lambda t, ans, x, y: t * x),
    save=("args",),
    batch=_broadcasting,
    partials=("{1}", "{0}"),
    operator=" · ",
    array_args=True,
)
divide = Primitive(
    "divide",
    np.true_divide,
    vjp=(
        lambda g, ans, x, y: g / conj_of(y),  # ∂(x/y)/∂x = 1/y (conjugated for complex y: PyTorch's convention)
        lambda g, ans, x, y: -g * conj_of(ans / y),  # ∂(x/y)/∂y = -x/y² = -ans/y
    ),
    jvp=(lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y),
    save=("args", "ans"),
    partials=("1/{1}", "-{0}/{1}²"),
    operator=" / ",
    batch=_broadcasting,
    array_args=True,
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


_SUPERSCRIPT = {2: "²", 3: "³"}


def _constant_exponent(values):
    """The exponent's value where it is a real constant scalar, else None."""
    c = values[1] if len(values) > 1 else None
    return None if c is None or np.ndim(c) or np.iscomplexobj(c) else float(c)


def _power_partials(i, texts, out, values, number):
    # ∂(x^y)/∂x written with the exponent's value when it is a constant (then its text is exact)
    x, y = texts[0], texts[1]
    if i == 1:
        return f"{out}·ln {x}"
    c = _constant_exponent(values)
    if c is None:
        return f"{y}·{x}^({y} - 1)"
    if c == 2:
        return f"2·{x}"
    d = c - 1
    if float(c).is_integer():
        shown = _SUPERSCRIPT.get(int(d), f"^{int(d)}" if d >= 0 else f"^({int(d)})")
        return f"{y}·{x}{shown}"
    shown = number(d)
    if len(shown) > len(number(c)) + 2:  # 2.0000001 - 1 has no short exact text: keep it symbolic
        shown = f"({number(c)} - 1)"
    return f"{y}·{x}^({shown})" if shown.startswith("-") else f"{y}·{x}^{shown}"


def _power_notation(operands, kw, values, call):
    # x ** 2 reads x²
    c = _constant_exponent(values)
    if len(operands) == 2 and None not in operands and c is not None and c in _SUPERSCRIPT:
        x = operands[0]
        return (f"({x})" if x.startswith("-") else x) + _SUPERSCRIPT[c]
    return None


power = binary(
    "power",
    np.power,
    _dpow_dx,
    _dpow_dy,
    save=("args", "ans"),
    partials=_power_partials,
    operator="^",
    notation=_power_notation,
    convention="at x = 0, ∂/∂x is 0 where y = 0 (x⁰ = 1 is constant) and ∂/∂y is 0 (the limit for y > 0)",
)

# ---- exponentials and logarithms ------------------------------------------------
exp = elementwise("exp", np.exp, lambda ans, x: ans, save=("ans",), partials=("exp({0})",))  # d/dx eˣ = eˣ
expm1 = elementwise("expm1", np.expm1, lambda ans, x: ans + 1, save=("ans",),
                    partials=("exp({0})",))  # d/dx (eˣ-1) = eˣ
exp2 = elementwise("exp2", np.exp2, lambda ans, x: ans * math.log(2.0), save=("ans",), partials=("2^{0}·ln 2",))
log = elementwise("log", np.log, lambda ans, x: 1 / x, partials=("1/{0}",))  # d/dx ln x = 1/x
log1p = elementwise("log1p", np.log1p, lambda ans, x: 1 / (x + 1), partials=("1/(1 + {0})",))
log2 = elementwise("log2", np.log2, lambda ans, x: 1 / (x * math.log(2.0)), partials=("1/({0}·ln 2)",))
log10 = elementwise("log10", np.log10, lambda ans, x: 1 / (x * math.log(10.0)), partials=("1/({0}·ln 10)",))
sqrt = elementwise("sqrt", np.sqrt, lambda ans, x: 0.5 / ans, save=("ans",),
                   partials=("1/(2·√{0})",))  # d/dx √x = 1/(2√x)
cbrt = elementwise("cbrt", np.cbrt, lambda ans, x: 1 / (3 * ans * ans), save=("ans",), partials=("1/(3·{out}²)",))
square = elementwise("square", np.square, lambda ans, x: 2 * x, partials=("2·{0}",))
reciprocal = elementwise("reciprocal", np.reciprocal, lambda ans, x: -ans * ans, save=("ans",), partials=("-1/{0}²",))

# ---- trigonometric and hyperbolic ----------------------------------------------


def _sin_vjp(g, ans, x):
    # x̄ = ḡ · conj(cos x). A real array x means the first-order pass (a recorded sin's input is a Tensor
    # otherwise), where cos(x) is np.cos(x): called directly, two calls fewer per op
    if type(x) is _ndarray and x.dtype.kind == "f":
        return g * _np_cos(x)
    return g * conj_of(cos(x))


sin = Primitive(
    "sin",
    np.sin,
    vjp=(_sin_vjp,),
    jvp=(lambda t, ans, x: t * cos(x),),  # d/dx sin x = cos x
    save=("args",),
    batch=_broadcasting,
    partials=("cos({0})",),
    array_args=True,
)
cos = elementwise("cos", np.cos, lambda ans, x: -sin(x), partials=("-sin({0})",))
tan = elementwise("tan", np.tan, lambda ans, x: 1 + ans * ans, save=("ans",),
                  partials=("1 + tan²({0})",))  # sec² = 1 + tan²
arcsin = elementwise("arcsin", np.arcsin, lambda ans, x: 1 / sqrt(1 - x * x), partials=("1/√(1 - {0}²)",))
arccos = elementwise("arccos", np.arccos, lambda ans, x: -1 / sqrt(1 - x * x), partials=("-1/√(1 - {0}²)",))
arctan = elementwise("arctan", np.arctan, lambda ans, x: 1 / (1 + x * x), partials=("1/(1 + {0}²)",))
sinh = elementwise("sinh", np.sinh, lambda ans, x: cosh(x), partials=("cosh({0})",))
cosh = elementwise("cosh", np.cosh, lambda ans, x: sinh(x), partials=("sinh({0})",))


def _tanh_vjp(g, ans, x):
    # x̄ = ḡ · (1 - tanh² x). On the first-order pass's float arrays, the same three operations in one buffer
    # the rule owns (a fresh ans²), not three: the recurrent layers run it once per step
    if type(g) is _ndarray and type(ans) is _ndarray:
        dtype = ans.dtype
        if g.dtype is dtype and dtype.kind == "f":  # (the sweep gives g the shape of ans)
            r = ans * ans
            if type(r) is _ndarray:  # (a 0-d product is a NumPy scalar: no buffer to own)
                np.subtract(1, r, r)  # out positionally: NumPy parses out= slower than a small op takes
                return np.multiply(g, r, r)
            return g * (1 - r)
    return g * conj_of(1 - ans * ans)


tanh = Primitive(
    "tanh",
    np.tanh,
    vjp=(_tanh_vjp,),
    jvp=(lambda t, ans, x: t * (1 - ans * ans),),  # d/dx tanh x = 1 - tanh² x
    save=("ans",),
    batch=_broadcasting,
    partials=("1 - tanh²({0})",),
    array_args=True,
)
arcsinh = elementwise("arcsinh", np.arcsinh, lambda ans, x: 1 / sqrt(x * x + 1), partials=("1/√({0}² + 1)",))
arccosh = elementwise("arccosh", np.arccosh, lambda ans, x: 1 / sqrt(x * x - 1), partials=("1/√({0}² - 1)",))
arctanh = elementwise("arctanh", np.arctanh, lambda ans, x: 1 / (1 - x * x), partials=("1/(1 - {0}²)",))
arctan2 = binary(
    "arctan2",
    np.arctan2,
    lambda ans, y, x: x / (x * x + y * y),  # ∂/∂y atan2(y, x)
    lambda ans, y, x: -y / (x * x + y * y),
    partials=("{1}/({0}² + {1}²)", "-{0}/({0}² + {1}²)"),
)
hypot = binary("hypot", np.hypot, lambda ans, x, y: x / ans, lambda ans, x, y: y / ans, save=("args", "ans"),
               partials=("{0}/{out}", "{1}/{out}"))


# ---- activations ----------------------------------------------------------------
def _sigmoid(x):
    # Stable at ±1000: exp is only ever taken of a non-positive number.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid = elementwise("sigmoid", _sigmoid, lambda ans, x: ans * (1 - ans), save=("ans",),
                      partials=("σ({0})·(1 - σ({0}))",))  # σ' = σ(1-σ)


def _relu(x):
    return np.maximum(x, 0)


relu = elementwise("relu", _relu, lambda ans, x: _positive_mask(x), partials=("[{0} > 0]",),
                   convention="relu'(0) = 0")


def _sgn(x, ans):
    # z/|z| for complex z (0 at 0), differentiable again; sign(x) for real x (its derivative is 0 off the kink)
    if not is_complex(x):
        return sign(x)
    zero = ans == 0
    return where(zero, 0, x / where(zero, 1, ans))


# |z| is not holomorphic: ∂|z|/∂Re z + i ∂|z|/∂Im z = z/|z| (PyTorch's sgn), and its tangent is Re(conj(z/|z|)·ż)
abs = Primitive(
    "abs",
    np.abs,
    vjp=(lambda g, ans, x: g * _sgn(x, ans),),
    jvp=(lambda t, ans, x: real(conj(_sgn(x, ans)) * t) if is_complex(x) else t * sign(x),),
    save=("args", "ans"),
    batch=_broadcasting,
    partials=("sign({0})",),
    convention="abs'(0) = sign(0) = 0 (for complex z: z/|z|, and 0 at 0)",
)


def _logaddexp(x, y):
    return np.logaddexp(x, y)


logaddexp = binary(
    "logaddexp",
    _logaddexp,
    lambda ans, x, y: exp(x - ans),  # ∂/∂x log(eˣ + eʸ) = eˣ / (eˣ + eʸ)
    lambda ans, x, y: exp(y - ans),
    save=("args", "ans"),
    partials=("exp({0} - {out})", "exp({1} - {out})"),
)


# ---- maximum / minimum: ties split the gradient evenly --------------------------
def _tie_weights(x, y):
    # 1 where x wins, 1/2 at a tie, 0 where y wins, in the result's dtype
    dt = np.result_type(x, y)
    if dt.kind != "f":
        dt = np.float64
    return ((x > y) + 0.5 * (x == y)).astype(dt, copy=False)


_max_weight = _nondiff("_maximum_weight", _tie_weights)
_min_weight = _nondiff("_minimum_weight", lambda x, y: _tie_weights(y, x))

maximum = binary(
    "maximum",
    np.maximum,
    lambda ans, x, y: _max_weight(x, y),  # NOTE: ties split evenly (½ each)
    lambda ans, x, y: _max_weight(y, x),
    partials=("[{0} > {1}] + [{0} = {1}]/2", "[{1} > {0}] + [{0} = {1}]/2"),
    convention="at a tie (x = y) the gradient is split evenly, ½ to each input",
)
minimum = binary(
    "minimum",
    np.minimum,
    lambda ans, x, y: _min_weight(x, y),  # NOTE: ties split evenly (½ each)
    lambda ans, x, y: _min_weight(y, x),
    partials=("[{0} < {1}] + [{0} = {1}]/2", "[{1} < {0}] + [{0} = {1}]/2"),
    convention="at a tie (x = y) the gradient is split evenly, ½ to each input",
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
    batch=_broadcasting,
    vjp_formulas=("", "where({0}, {g}, 0)", "where({0}, 0, {g})"),
    array_args=True,
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


_clip_pass = _nondiff("_clip_mask", _clip_mask)


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
    batch=_broadcasting,
    call_args=lambda kw, shapes: [(None, kw["lo"]), (None, kw["hi"])],
    convention="as PyTorch: x gets the gradient for lo <= x <= hi (the bounds included), lo for x < lo, "
               "hi for x > hi and wherever hi < lo",
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


# ---- the one list of non-differentiable elementwise operations: booleans, bits, masks ----------------
# A boolean mask: ḡ · mask casts it inside the multiply, saving a pass over the array (as ḡ ⊙ [x > 0] by hand)
_positive_mask = _nondiff("_positive_mask", lambda x: x > 0)
_zeros_like = zeros_like  # an exact zero derivative, of x's shape and dtype
equal = _nondiff("equal", np.equal)
not_equal = _nondiff("not_equal", np.not_equal)
less = _nondiff("less", np.less)
less_equal = _nondiff("less_equal", np.less_equal)
greater = _nondiff("greater", np.greater)
greater_equal = _nondiff("greater_equal", np.greater_equal)
logical_and = _nondiff("logical_and", np.logical_and)
logical_or = _nondiff("logical_or", np.logical_or)
logical_xor = _nondiff("logical_xor", np.logical_xor)
logical_not = _nondiff("logical_not", np.logical_not)
isfinite = _nondiff("isfinite", np.isfinite)
isnan = _nondiff("isnan", np.isnan)
isinf = _nondiff("isinf", np.isinf)
signbit = _nondiff("signbit", np.signbit)
invert = _nondiff("invert", np.invert)
bitwise_and = _nondiff("bitwise_and", np.bitwise_and)
bitwise_or = _nondiff("bitwise_or", np.bitwise_or)
bitwise_xor = _nondiff("bitwise_xor", np.bitwise_xor)
