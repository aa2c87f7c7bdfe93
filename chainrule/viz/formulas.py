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

from ..core.primitive import REGISTRY
from .notation import constant_text

__all__ = ["HIDDEN", "call_name", "call_text", "literal", "partial_formula", "vjp_formula"]


def _primitive(prim):
    """The primitive itself, or the registered one of that name (None if there is none)."""
    return REGISTRY.get(prim) if isinstance(prim, str) else prim


# ---- derivatives: the text each primitive declares (Primitive's partials and vjp_formulas) ----
def partial_formula(prim, i, texts, out, values=()):
    """∂out/∂(input i) of primitive ``prim`` (or its name) as a formula in the operands' ``texts``, or None if
    it declares none.

    ``values[k]`` is operand k's value where it is a constant (None for a variable): a power's exponent
    is then written as the number it is.

    >>> partial_formula("multiply", 0, ["v1", "v2"], "v3")
    'v2'
    >>> partial_formula("power", 0, ["v1", "3"], "v2", (None, 3.0))
    '3·v1²'
    """
    forms = getattr(_primitive(prim), "partials", None)
    if forms is None:
        return None
    if callable(forms):
        return forms(i, texts, out, values, constant_text)
    if i >= len(forms):
        return None
    return forms[i].format(*texts, out=out)


def vjp_formula(prim, i, texts, g, out, kw=None, shape=None):
    """How the vector-Jacobian product for input ``i`` of ``prim`` (or its name) is computed, or None; ``kw``
    are the primitive's keywords (the index of a ``t[i] = v`` write), ``shape`` the input's shape if known.

    >>> vjp_formula("matmul", 0, ["v4", "v9"], "g10", "v10")
    'g10 @ v9ᵀ'
    """
    forms = getattr(_primitive(prim), "vjp_formulas", None)
    if forms is None:
        return None
    if callable(forms):
        return forms(i, texts, g, out, kw or {}, shape)
    return forms[min(i, len(forms) - 1)].format(*texts, g=g, out=out)


# ---- calls: public names and arguments ------------------------------------------------
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
    rule = getattr(prim, "call_args", None)
    if rule is not None:
        try:
            return rule(kw, shapes)
        except (KeyError, TypeError, IndexError):
            pass  # keywords of another shape than expected (a future primitive of the same name): show them
    shown = []
    for key, val in kw.items():
        if key.startswith("_") or not _plain(val) or val is None or val is False or key.endswith("shape"):
            continue  # bookkeeping (in_shape, a Function's ctx, a checkpoint's segment) is not an argument
        shown.append((key, val[0] if isinstance(val, tuple) and len(val) == 1 else val))
    return shown


def call_name(prim, kw):
    """The operation's public name: the primitive's (a Function's is its class name).

    >>> call_name(REGISTRY["sum"], {})
    'sum'
    """
    return prim.name


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
    while ops and ops[-1] is None:
        ops.pop()  # an optional argument left out (a Linear without bias): as the user wrote it
    ops = ["None" if o is None else o for o in ops]
    shown = [o for o in ops if o is not HIDDEN]

    def call(texts, head=None):
        parts = list(texts) + [literal(v) if k is None else f"{k}={literal(v)}"
                               for k, v in _public_args(prim, kw, shapes)]
        head = head or call_name(prim, kw)
        return f"{head}({', '.join(parts)})" if parts or operands and HIDDEN not in operands else head

    notation = getattr(prim, "notation", None)
    if notation is not None:
        text = notation([None if o is HIDDEN else o for o in ops], kw, values, call)
        if text is not None:
            return text
    symbol = getattr(prim, "operator", None)
    if symbol is not None and HIDDEN not in ops:
        if len(ops) == 2:
            return f"{_bracket(ops[0])}{symbol}{_bracket(ops[1])}"
        if len(ops) == 1:
            return symbol + _bracket(ops[0])
    return call(shown)
