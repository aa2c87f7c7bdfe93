"""The notes' notation as text: v̄ (adjoint) and v̇ (tangent) names, numbers and arrays, and a plain-ASCII spelling.

>>> from chainrule.viz.notation import bar, format_value, to_ascii
>>> bar("v3"), format_value([1.0, -2.5]), to_ascii("v̄3 = v̄5 · ∂v5/∂v3")
('v̄3', '(2,) [1, -2.5]', 'v3_bar = v5_bar * dv5/dv3')
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

__all__ = ["bar", "constant_text", "dot", "format_number", "format_value", "pad", "to_ascii", "width"]

MACRON, OVERLINE, DOT_ABOVE = "\u0304", "\u0305", "\u0307"


def _split(name):
    """``"v12"`` -> ``("v", "12")``: the accent goes on the letters, the index stays after them."""
    m = re.fullmatch(r"(.*?)(\d*)", name)
    return (m.group(1), m.group(2)) if m.group(1) else (name, "")


def bar(name):
    """The adjoint's name in bar notation, v̄ = ∂L/∂v; a longer name is overlined letter by letter.

    >>> bar("v3") == "v\u03043", bar("lam") == "l\u0305a\u0305m\u0305"
    (True, True)
    """
    head, digits = _split(name)
    if len(head) == 1:
        return head + MACRON + digits
    return "".join(c + OVERLINE for c in head) + digits  # an overline joins up across letters


def dot(name):
    """The tangent's name (forward mode), v̇ = dv/dt along the chosen direction.

    >>> dot("v3") == "v\u03073"
    True
    """
    head, digits = _split(name)
    return head + DOT_ABOVE + digits


# Symbols with a plain spelling. √ and σ are handled before this table, since they need brackets.
_ASCII = str.maketrans(
    {
        "·": "*",
        "∘": "*",
        "∂": "d",
        "ᵀ": ".T",
        "²": "^2",
        "³": "^3",
        "−": "-",
        "…": "...",
        "Σ": "sum",
        "←": "<-",
        "≥": ">=",
        "≤": "<=",
    }
)


def to_ascii(text):
    """Plain-ASCII spelling of explain's output, for terminals without Unicode.

    ``v̄3`` → ``v3_bar``, ``v̇3`` → ``v3_dot``, ``·`` and ``∘`` → ``*``, ``∂`` → ``d``, ``√v5`` → ``sqrt(v5)``.

    >>> to_ascii("∂v6/∂v5 = 1/(2·√v5)")
    'dv6/dv5 = 1/(2*sqrt(v5))'
    """
    text = unicodedata.normalize("NFD", text)  # ẋ, ȳ typed precomposed become x + ◌̇, y + ◌̄
    text = re.sub(
        r"((?:[\w.]" + OVERLINE + r")+)(\d*)", lambda m: m.group(1).replace(OVERLINE, "") + m.group(2) + "_bar", text
    )
    text = re.sub(r"(\w)" + MACRON + r"(\d*)", r"\1\2_bar", text)
    text = re.sub(r"(\w)" + DOT_ABOVE + r"(\d*)", r"\1\2_dot", text)
    text = re.sub(r"√(\w+)", r"sqrt(\1)", text).replace("√", "sqrt")  # √v5 → sqrt(v5); √(…) → sqrt(…)
    text = text.replace("σ", "sigmoid")  # always written σ(…)
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def width(text):
    """Columns ``text`` takes in a terminal: combining accents (the bar of v̄) take none."""
    return sum(1 for c in text if not unicodedata.combining(c))


def pad(text, columns):
    """``text`` padded with blanks to ``columns`` terminal columns."""
    return text + " " * (columns - width(text))


def format_number(x, precision=6):
    """One number with ``precision`` significant digits: ``-0`` shows as ``0``, a complex number in brackets.

    >>> format_number(3.14159, 3), format_number(-0.0), format_number(1 + 2j)
    ('3.14', '0', '(1+2j)')
    """
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (complex, np.complexfloating)):
        if x.imag != 0:
            return "(" + format(complex(x), f".{precision}g") + ")"
        x = x.real  # a complex value on the real line reads as a real number
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    s = format(float(x), f".{precision}g")
    return "0" if s == "-0" else s


def constant_text(x, precision=6):
    """A number the code itself contains, as text: rounded to ``precision`` digits only where that is exact.

    A constant is part of the program, not a result, so ``x ** 2.0000001`` must never read as ``x ** 2``.

    >>> constant_text(0.5), constant_text(2.0000001), constant_text(1 / 3, 4)
    ('0.5', '2.0000001', '0.3333333333333333')
    """
    a = np.asarray(x)
    if a.dtype.kind not in "fc":
        return format_number(a.item(), precision)
    if a.dtype.kind == "c" and a.imag != 0:
        short = format_number(a.item(), precision)
        return short if complex(short.strip("()")) == a.item() else f"({a.item()!r})"
    value = a.real if a.dtype.kind == "c" else a
    short = format_number(value.item(), precision)
    if value.dtype.type(short) == value:
        return short
    exact = str(value.dtype.type(value))  # NumPy's shortest text that reads back as the same number
    return exact.removesuffix(".0")


def format_value(value, precision=6, max_size=8, shape=True):
    """A value as explain prints it: numbers plainly, small arrays in full, large ones by shape and range.

    >>> format_value(np.array([1.0, -2.5, 3.0]))
    '(3,) [1, -2.5, 3]'
    >>> format_value(np.ones((64, 10)))
    '(64, 10) array in [1, 1]'
    """
    a = np.asarray(getattr(value, "data", value))
    if a.ndim == 0:
        return format_number(a.item(), precision)
    if a.size == 0:
        return f"{a.shape} empty"
    if a.size > max_size:
        if a.dtype.kind == "c":  # complex numbers have no order: give the largest magnitude instead
            return f"{a.shape} array, |x| up to {format_number(np.abs(a).max(), precision)}"
        return f"{a.shape} array in [{format_number(a.min(), precision)}, {format_number(a.max(), precision)}]"
    head = f"{a.shape} " if shape else ""
    body = np.array2string(
        a, separator=", ", formatter={"all": lambda x: format_number(x, precision)}, max_line_width=10**6
    )
    return head + re.sub(r"\s*\n\s*", " ", body)
