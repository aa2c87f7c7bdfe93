"""How each primitive reads to a user: its call with the public names and arguments, and its local derivatives.

The engine's primitives take normalised, engine-level arguments (``axes=(1,)``, a ``bounds`` table, a
``ctx`` object); explanations and pictures show the call as the user would write it instead:

>>> from chainrule.core.primitive import REGISTRY
>>> call_text(REGISTRY["softmax"], ["v1"], {"axes": (1,)}, [(2, 3)])
'softmax(v1)'
>>> call_text(REGISTRY["norm"], ["v1"], {"p": 3.0, "axes": (0,), "keepdims": False}, [(4,)])
'norm(v1, ord=3)'
"""

from __future__ import annotations

import numpy as np

from .notation import constant_text

__all__ = ["HIDDEN", "INFIX", "PARTIALS", "VJPS", "call_name", "call_text", "literal", "partial_formula", "vjp_formula"]

INFIX = {"add": "+", "subtract": "-", "multiply": "·", "divide": "/", "matmul": "@"}
_SUPERSCRIPT = {2: "²", 3: "³"}

# The two tables below read best with several related entries per line.
# fmt: off
# ∂out/∂input_i for elementwise primitives, written with the operands {0}, {1} and the output {out}.
PARTIALS = {
    "add": ("1", "1"), "subtract": ("1", "-1"), "multiply": ("{1}", "{0}"), "divide": ("1/{1}", "-{0}/{1}²"),
    "negative": ("-1",), "positive": ("1",), "exp": ("exp({0})",), "expm1": ("exp({0})",),
    "exp2": ("2^{0}·ln 2",), "log": ("1/{0}",), "log1p": ("1/(1 + {0})",), "log2": ("1/({0}·ln 2)",),
    "log10": ("1/({0}·ln 10)",), "sqrt": ("1/(2·√{0})",), "cbrt": ("1/(3·{out}²)",), "square": ("2·{0}",),
    "reciprocal": ("-1/{0}²",), "sin": ("cos({0})",), "cos": ("-sin({0})",), "tan": ("1 + tan²({0})",),
    "arcsin": ("1/√(1 - {0}²)",), "arccos": ("-1/√(1 - {0}²)",), "arctan": ("1/(1 + {0}²)",),
    "sinh": ("cosh({0})",), "cosh": ("sinh({0})",), "tanh": ("1 - tanh²({0})",),
    "arcsinh": ("1/√({0}² + 1)",), "arccosh": ("1/√({0}² - 1)",), "arctanh": ("1/(1 - {0}²)",),
    "sigmoid": ("σ({0})·(1 - σ({0}))",), "relu": ("[{0} > 0]",), "abs": ("sign({0})",),
    # NOTE: ties split the gradient evenly (the documented rule), so the tie term is part of the formula
    "maximum": ("[{0} > {1}] + [{0} = {1}]/2", "[{1} > {0}] + [{0} = {1}]/2"),
    "minimum": ("[{0} < {1}] + [{0} = {1}]/2", "[{1} < {0}] + [{0} = {1}]/2"),
    "hypot": ("{0}/{out}", "{1}/{out}"), "arctan2": ("{1}/({0}² + {1}²)", "-{0}/({0}² + {1}²)"),
    "logaddexp": ("exp({0} - {out})", "exp({1} - {out})"), "astype": ("1",),
}
# Vector-Jacobian products of the common tensor primitives, as the notes write them (ȳ hᵀ, Wᵀ ȳ).
VJPS = {
    "matmul": ("{g} @ {1}ᵀ", "{0}ᵀ @ {g}"), "sum": ("broadcast({g})",), "mean": ("broadcast({g}) / n",),
    "transpose": ("transpose({g})",), "reshape": ("reshape({g}, {0}.shape)",),
    "broadcast_to": ("sum_to({g}, {0}.shape)",), "sum_to": ("broadcast({g})",), "getitem": ("scatter({g})",),
    "softmax": ("{out} ∘ ({g} - Σ({g} ∘ {out}))",), "log_softmax": ("{g} - exp({out}) ∘ Σ({g})",),
    "where": ("", "where({0}, {g}, 0)", "where({0}, 0, {g})"),
}
# fmt: on


# ---- derivatives ---------------------------------------------------------------------
def _power_partial(x, y, c):
    """∂(x^y)/∂x; ``c`` is the exponent's value when it is a constant (then its text is exact)."""
    if c is None:
        return f"{y}·{x}^({y} - 1)"
    if c == 2:
        return f"2·{x}"
    d = c - 1
    if float(c).is_integer():
        power = _SUPERSCRIPT.get(int(d), f"^{int(d)}" if d >= 0 else f"^({int(d)})")
    else:
        shown = constant_text(d)
        if len(shown) > len(constant_text(c)) + 2:  # 2.0000001 - 1 has no short exact text: keep it symbolic
            shown = f"({constant_text(c)} - 1)"
        power = f"^({shown})" if shown.startswith("-") else f"^{shown}"
    return f"{y}·{x}{power}"


def partial_formula(name, i, texts, out, values=()):
    """∂out/∂(input i) of primitive ``name`` as a formula in the operands' ``texts``, or None if it has none.

    ``values[k]`` is operand k's value where it is a constant (None for a variable): a power's exponent
    is then written as the number it is.

    >>> partial_formula("multiply", 0, ["v1", "v2"], "v3")
    'v2'
    >>> partial_formula("power", 0, ["v1", "3"], "v2", (None, 3.0))
    '3·v1²'
    """
    if name == "power":
        if i == 1:
            return f"{out}·ln {texts[0]}"
        c = values[1] if len(values) > 1 else None
        c = None if c is None or np.ndim(c) or np.iscomplexobj(c) else float(c)
        return _power_partial(texts[0], texts[1], c)
    forms = PARTIALS.get(name)
    if forms is None or i >= len(forms):
        return None
    return forms[i].format(*texts, out=out)


def vjp_formula(name, i, texts, g, out, kw=None):
    """How the vector-Jacobian product for input ``i`` is computed, or None; ``kw`` are the primitive's
    keywords (the index of a ``t[i] = v`` write).

    >>> vjp_formula("matmul", 0, ["v4", "v9"], "g10", "v10")
    'g10 @ v9ᵀ'
    """
    if name == "index_update" and kw and "index" in kw:
        index = _index_text(kw["index"])
        return f"setitem({g}, {index}, 0)" if i == 0 else f"{g}{index}"  # overwritten entries get nothing
    vjps = VJPS.get(name)
    if vjps is None:
        return None
    return vjps[min(i, len(vjps) - 1)].format(*texts, g=g, out=out)


# ---- calls: public names and arguments ------------------------------------------------
def _one(axis):
    return axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis


def _all_axes(axes, shape):
    return shape is not None and tuple(axes) == tuple(range(len(shape)))


def _reduction(kw, shapes):
    """``axis`` omitted when it covers every axis (NumPy's axis=None), ``keepdims``/``ddof`` when default."""
    out = []
    axis = kw.get("axis", kw.get("axes"))
    if axis is not None and not _all_axes(axis, shapes[0]):
        out.append(("axis", _one(axis)))
    if kw.get("keepdims"):
        out.append(("keepdims", True))
    if kw.get("ddof"):
        out.append(("ddof", kw["ddof"]))
    return out


def _softmax(kw, shapes):
    axes, shape = kw["axes"], shapes[0]
    if shape is not None and axes == (len(shape) - 1,):
        return []  # the default, axis=-1
    return [("axis", None if _all_axes(axes, shape) and len(axes) > 1 else _one(axes))]


def _norm(kw, shapes):
    out = [] if kw["p"] == 2 else [("ord", kw["p"])]  # ord=None is the 2-norm (Frobenius for matrices)
    return out + _reduction({k: v for k, v in kw.items() if k != "p"}, shapes)


def _loss(kw, shapes):
    # cross_entropy/nll_loss fold the reduction into a factor; 1/N is the default "mean"
    if not kw["reduce"]:
        return [("reduction", "none")]
    rows = shapes[1][0] if shapes[1] else 1
    if kw["factor"] == 1 and rows > 1:
        return [("reduction", "sum")]
    return []


def _pair(v):
    """A (height, width) pair as the public argument: ``3`` for (3, 3), else the pair."""
    return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v


def _padding(sides):
    """((top, bottom), (left, right)) as the public ``padding``: ``1``, ``(1, 0)``; uneven sides stay as they are."""
    (top, bottom), (left, right) = sides
    return _pair((top, left)) if (top, left) == (bottom, right) else sides


def _window(default_stride):
    """kernel_size, and stride and padding where not their defaults (``default_stride(kw)``), public form."""

    def args(kw, shapes):
        out = [("kernel_size", _pair(kw["kernel"]))]
        if tuple(kw["stride"]) != tuple(default_stride(kw)):
            out.append(("stride", _pair(kw["stride"])))
        if any(p for side in kw["padding"] for p in side):
            out.append(("padding", _padding(kw["padding"])))
        return out

    return args


def _positional(*keys, hide=()):
    def args(kw, shapes):
        return [(None, kw[k]) for k in keys] + [(k, v) for k, v in kw.items() if k not in keys and k not in hide]

    return args


def _drop(*keys):
    def args(kw, shapes):
        return [(k, v) for k, v in kw.items() if k not in keys]

    return args


# Per primitive: its public arguments from the engine's keywords, ``(keyword or None, value)``. A primitive
# not listed shows its plain keywords as they are (objects and the engine's own bookkeeping never show).
_ARGS = {
    **dict.fromkeys(("sum", "mean", "max", "min", "prod", "var", "std", "logsumexp"), _reduction),
    "softmax": _softmax,
    "log_softmax": _softmax,
    "norm": _norm,
    "cross_entropy": _loss,
    "nll_loss": _loss,
    "max_pool2d": _window(lambda kw: kw["kernel"]),  # stride defaults to kernel_size
    "concatenate": lambda kw, shapes: [] if kw["axis"] == 0 else [("axis", kw["axis"])],
    "stack": lambda kw, shapes: [] if kw["axis"] == 0 else [("axis", kw["axis"])],
    "cumsum": lambda kw, shapes: [] if shapes[0] is not None and len(shapes[0]) == 1 else [("axis", kw["axis"])],
    "reshape": lambda kw, shapes: [(None, _one(kw["shape"]))],
    "transpose": lambda kw, shapes: [] if kw["axes"] == tuple(range(len(kw["axes"])))[::-1] else [(None, kw["axes"])],
    "clip": lambda kw, shapes: [(None, kw["lo"]), (None, kw["hi"])],
    "pad": lambda kw, shapes: (
        [(None, kw["pad_width"])]
        + ([] if kw["mode"] == "constant" else [("mode", kw["mode"])])
        + (
            []
            if kw["mode"] != "constant" or kw["constant_values"] == 0
            else [("constant_values", kw["constant_values"])]
        )
    ),
    "diagonal": lambda kw, shapes: [
        (k, kw[k]) for k, default in (("offset", 0), ("axis1", 0), ("axis2", 1)) if kw[k] != default
    ],
    "repeat": _positional("repeats"),
    "astype": _positional("dtype"),
    "einsum": _drop("subscripts"),  # written first, as the call's first argument
    "im2col": _window(lambda kw: (1, 1)),  # F.im2col(x, kernel_size, stride=1, padding=0)
    "col2im": lambda kw, shapes: [("output_size", kw["in_shape"])] + _window(lambda kw: (1, 1))(kw, shapes),
}
_LIST_OPERANDS = ("concatenate", "stack")  # called with a list: concatenate([a, b])


def _plain(value):
    """True for values that read as code (numbers, text, dtypes, tuples of those): never an object's repr."""
    if value is None or isinstance(value, (bool, int, float, complex, str, np.generic, np.dtype)):
        return True
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return False


def literal(value):
    """A static argument as code.

    >>> literal((2, 3)), literal("constant"), literal(np.dtype("float32")), literal(-0.5), literal((1,))
    ('(2, 3)', "'constant'", 'float32', '-0.5', '(1,)')
    """
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return constant_text(value)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(literal(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value.item() if isinstance(value, np.generic) else value)


def _public_args(prim, kw, shapes):
    rule = _ARGS.get(prim.name) if _registered(prim) else None
    if rule is not None:
        try:
            return rule(kw, shapes)
        except (KeyError, TypeError, IndexError):
            pass  # keywords of another shape than expected (a future primitive of the same name): show them
    shown = []
    for key, val in kw.items():
        if key.startswith("_") or not _plain(val) or val is None or val is False or key.endswith("shape"):
            continue  # bookkeeping (in_shape, a Function's ctx, a checkpoint's segment) is not an argument
        shown.append((key, _one(val)))
    return shown


def _registered(prim):
    from ..core.primitive import REGISTRY

    return REGISTRY.get(prim.name) is prim


def call_name(prim, kw):
    """The operation's public name: a Function's class name, ``checkpoint(block)``, else the primitive's."""
    if prim.name == "checkpoint" and "seg" in kw:
        inner = getattr(getattr(kw["seg"], "f", None), "__name__", None)
        return f"checkpoint({inner})" if isinstance(inner, str) else "checkpoint"
    return prim.name


def _index_text(index):
    """An index as NumPy syntax in brackets: ``[0]``, ``[1:3]``, ``[[0,2]]``, ``[0, :]``."""
    text = repr(index)  # the Index object shows itself as NumPy syntax, "[0, 1:3]"
    return text if text.startswith("[") else f"[{text}]"


def _bracket(text):
    """A negative number next to an operator is bracketed: ``v1 · (-4)``, ``v1^(-1)``."""
    return f"({text})" if text.startswith("-") else text


HIDDEN = object()  # an operand that a node picture draws as an edge instead of writing it in the call


def call_text(prim, operands, kw, shapes=None, values=()):
    """The call as the user writes it: ``sum(v3, axis=1)``, ``v1 + v2``, ``linear(v1, v2)`` (no bias).

    ``operands`` are the operands' texts: None for an argument that was None, :data:`HIDDEN` for one a
    graph picture draws as an edge (``call_text(sum_p, [HIDDEN], ...)`` is ``sum(axis=1)``); ``shapes``
    are their shapes where known (None where not), used to leave out defaults such as an ``axis`` over
    every axis; ``values`` the constant operands' values (None for variables), so that ``x ** 2`` reads
    ``v1²``.

    >>> from chainrule.core.primitive import REGISTRY
    >>> call_text(REGISTRY["sum"], ["v3"], {"axis": (1,), "keepdims": False, "shape": (2, 3)}, [(2, 3)])
    'sum(v3, axis=1)'
    >>> call_text(REGISTRY["sum"], [HIDDEN], {"axis": (0, 1), "keepdims": False, "shape": (2, 3)}, [(2, 3)])
    'sum'
    """
    kw = kw or {}
    ops = list(operands)
    shapes = list(shapes or []) + [None] * (len(ops) + 2)
    name = prim.name
    while ops and ops[-1] is None:
        ops.pop()  # an optional argument left out (a Linear without bias): as the user wrote it
    ops = ["None" if o is None else o for o in ops]
    if HIDDEN not in ops:
        if name in INFIX and len(ops) == 2:
            return f"{_bracket(ops[0])} {INFIX[name]} {_bracket(ops[1])}"
        if name == "power" and len(ops) == 2:
            c = values[1] if len(values) > 1 else None
            if c is not None and np.ndim(c) == 0 and not np.iscomplexobj(c) and float(c) in _SUPERSCRIPT:
                return _bracket(ops[0]) + _SUPERSCRIPT[float(c)]
            return f"{_bracket(ops[0])}^{_bracket(ops[1])}"
        if name in ("negative", "positive") and len(ops) == 1:
            return ("-" if name == "negative" else "+") + _bracket(ops[0])
        if name in _LIST_OPERANDS:
            ops = [f"[{', '.join(ops)}]"]
    ops = [o for o in ops if o is not HIDDEN]
    if name == "getitem" and "index" in kw:
        return (ops[0] if ops else name) + _index_text(kw["index"])
    if name == "index_update" and "index" in kw:
        # t[i] = v recorded as a new value: the old one with [i] written (the operands may be edges)
        index = _index_text(kw["index"])
        return f"setitem({ops[0]}, {index}, {ops[1]})" if len(ops) == 2 else f"setitem({index})"
    if name == "einsum" and "subscripts" in kw:
        ops = [repr(kw["subscripts"])] + ops
    parts = ops + [literal(v) if k is None else f"{k}={literal(v)}" for k, v in _public_args(prim, kw, shapes)]
    head = call_name(prim, kw)
    return f"{head}({', '.join(parts)})" if parts or operands and HIDDEN not in operands else head
