"""cr.explain: the Wengert list of a forward pass and its backward adjoints in the notes' bar notation, with numbers."""

from __future__ import annotations

import inspect
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .core import primitive as _primitive
from .core.shapes import _sum_to
from .core.state import enable_grad, no_grad
from .core.tensor import Tensor, check_float_for_grad, wrap

__all__ = [
    "BackwardRow",
    "ConstantRow",
    "Explanation",
    "ForwardRow",
    "GradientRow",
    "Term",
    "bar",
    "dot",
    "explain",
    "format_value",
    "to_ascii",
]

MACRON, OVERLINE, DOT_ABOVE = "\u0304", "\u0305", "\u0307"


# ---- notation ------------------------------------------------------------------
def _split(name):
    m = re.fullmatch(r"(.*?)(\d*)", name)
    return m.group(1) or name, m.group(2) if m.group(1) else ""


def bar(name):
    """The adjoint's name in bar notation, v̄ = ∂L/∂v: ``bar("v3") == "v̄3"``."""
    head, digits = _split(name)
    if len(head) == 1:
        return head + MACRON + digits
    return "".join(c + OVERLINE for c in head) + digits  # an overline joins up across letters


def dot(name):
    """The tangent's name (forward mode), v̇ = dv/dt along the chosen direction: ``dot("v3") == "v̇3"``."""
    head, digits = _split(name)
    return head + DOT_ABOVE + digits


_ASCII = str.maketrans(
    {
        "·": "*",
        "∘": "*",
        "∂": "d",
        "ᵀ": ".T",
        "²": "^2",
        "³": "^3",
        "√": "sqrt",
        "−": "-",
        "σ": "sigmoid",
        "…": "...",
        "Σ": "sum",
        "←": "<-",
    }
)


def to_ascii(text):
    """Plain-ASCII spelling of explain's output, for terminals without Unicode: v̄3 → v3_bar, · → *."""
    text = unicodedata.normalize("NFD", text)  # ẋ, ȳ typed precomposed become x + ◌̇, y + ◌̄
    text = re.sub(
        r"((?:\w" + OVERLINE + r")+)(\d*)", lambda m: m.group(1).replace(OVERLINE, "") + m.group(2) + "_bar", text
    )
    text = re.sub(r"(\w)" + MACRON + r"(\d*)", r"\1\2_bar", text)
    text = re.sub(r"(\w)" + DOT_ABOVE + r"(\d*)", r"\1\2_dot", text)
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def _width(text):
    return sum(1 for c in text if not unicodedata.combining(c))


def _pad(text, width):
    return text + " " * (width - _width(text))


def _num(x, precision):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    s = format(float(x), f".{precision}g") if np.isreal(x) else format(complex(x), f".{precision}g")
    return "0" if s == "-0" else s


def format_value(value, precision=6, max_size=8, shape=True):
    """A value as explain prints it: numbers plainly, small arrays in full, large ones by shape and range.

    >>> format_value(np.array([1.0, -2.5, 3.0]))
    '(3,) [1, -2.5, 3]'
    >>> format_value(np.ones((64, 10)))
    '(64, 10) array in [1, 1]'
    """
    a = np.asarray(value.data if isinstance(value, Tensor) else value)
    if a.ndim == 0:
        return _num(a.item(), precision)
    head = f"{a.shape} " if shape else ""
    if a.size > max_size or a.size == 0:
        if a.size == 0:
            return f"{a.shape} empty"
        return f"{a.shape} array in [{_num(a.min(), precision)}, {_num(a.max(), precision)}]"
    body = np.array2string(a, separator=", ", formatter={"all": lambda x: _num(x, precision)}, max_line_width=10**6)
    return head + re.sub(r"\s*\n\s*", " ", body)


def _factor(text):
    """A number inside a product, parenthesised when negative: 1 · (-4)."""
    return f"({text})" if text.startswith("-") else text


# ---- what each primitive looks like: its assignment and its local derivatives ----
_INFIX = {"add": "+", "subtract": "-", "multiply": "·", "divide": "/", "matmul": "@"}
_SUPERSCRIPT = {2: "²", 3: "³"}

# The two tables below read best with several related entries per line.
# fmt: off
# ∂out/∂input_i for elementwise primitives, written with the operands {0}, {1} and the output {out}.
_PARTIALS = {
    "add": ("1", "1"), "subtract": ("1", "-1"), "multiply": ("{1}", "{0}"), "divide": ("1/{1}", "-{0}/{1}²"),
    "negative": ("-1",), "positive": ("1",), "exp": ("exp({0})",), "expm1": ("exp({0})",),
    "exp2": ("2^{0}·ln 2",), "log": ("1/{0}",), "log1p": ("1/(1 + {0})",), "log2": ("1/({0}·ln 2)",),
    "log10": ("1/({0}·ln 10)",), "sqrt": ("1/(2·√{0})",), "cbrt": ("1/(3·{out}²)",), "square": ("2·{0}",),
    "reciprocal": ("-1/{0}²",), "sin": ("cos({0})",), "cos": ("-sin({0})",), "tan": ("1 + tan²({0})",),
    "arcsin": ("1/√(1 - {0}²)",), "arccos": ("-1/√(1 - {0}²)",), "arctan": ("1/(1 + {0}²)",),
    "sinh": ("cosh({0})",), "cosh": ("sinh({0})",), "tanh": ("1 - tanh²({0})",),
    "arcsinh": ("1/√({0}² + 1)",), "arccosh": ("1/√({0}² - 1)",), "arctanh": ("1/(1 - {0}²)",),
    "sigmoid": ("σ({0})·(1 - σ({0}))",), "relu": ("[{0} > 0]",), "abs": ("sign({0})",),
    "maximum": ("[{0} > {1}]", "[{1} > {0}]"), "minimum": ("[{0} < {1}]", "[{1} < {0}]"),
    "hypot": ("{0}/{out}", "{1}/{out}"), "arctan2": ("{1}/({0}² + {1}²)", "-{0}/({0}² + {1}²)"),
    "logaddexp": ("exp({0} - {out})", "exp({1} - {out})"), "astype": ("1",),
}
# Vector-Jacobian products of the common tensor primitives, as the notes write them (ȳ hᵀ, Wᵀ ȳ).
_VJPS = {
    "matmul": ("{g} @ {1}ᵀ", "{0}ᵀ @ {g}"), "sum": ("broadcast({g})",), "mean": ("broadcast({g}) / n",),
    "transpose": ("transpose({g})",), "reshape": ("reshape({g}, {0}.shape)",),
    "broadcast_to": ("sum_to({g}, {0}.shape)",), "sum_to": ("broadcast({g})",), "getitem": ("scatter({g})",),
    "softmax": ("{out} ∘ ({g} - Σ({g} ∘ {out}))",), "log_softmax": ("{g} - exp({out}) ∘ Σ {g}",),
    "where": ("", "where({0}, {g}, 0)", "where({0}, 0, {g})"),
}
# fmt: on


def _literal(text):
    """The number a constant operand's text stands for (``"(-1)"`` is -1), or None for a variable."""
    try:
        return float(text.strip("()"))
    except ValueError:
        return None


def _power_partial(ops):
    x, y = ops
    c = _literal(y)
    if c is None:
        return f"{y}·{x}^({y} - 1)"
    if c == 2:
        return f"2·{x}"
    return f"{_num(c, 6)}·{x}" + _SUPERSCRIPT.get(c - 1, f"^{_num(c - 1, 6)}")


def _partial_formula(prim, i, ops, out):
    if prim == "power":
        return _power_partial(ops) if i == 0 else f"{out}·ln {ops[0]}"
    forms = _PARTIALS.get(prim)
    if forms is None or i >= len(forms):
        return None
    return forms[i].format(*ops, out=out)


def _expression(prim, ops, kw, first_shape):
    """The right-hand side of one assignment: ``v1 + v2``, ``sin(v2)``, ``sum(v3, axis=0)``."""
    if prim in _INFIX and len(ops) == 2:
        return f"{ops[0]} {_INFIX[prim]} {ops[1]}"
    if prim == "power" and len(ops) == 2:
        c = _literal(ops[1])
        return ops[0] + _SUPERSCRIPT[c] if c in _SUPERSCRIPT else f"{ops[0]}^{ops[1]}"
    if prim in ("negative", "positive"):
        return ("-" if prim == "negative" else "+") + ops[0]
    if prim == "getitem" and "index" in kw:
        index = repr(kw["index"])  # the Index object shows itself as NumPy syntax, "[0, 1:3]"
        return ops[0] + (index if index.startswith("[") else f"[{index}]")
    shown = []
    for key, val in kw.items():
        if val is None or val is False or (isinstance(val, tuple) and val == first_shape):
            continue
        if isinstance(val, tuple) and len(val) == 1:
            val = val[0]
        shown.append(f"{key}={val!r}" if isinstance(val, str) else f"{key}={val}")
    return f"{prim}({', '.join(list(ops) + shown)})"


# ---- the rows ------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConstantRow:
    """A constant operand (a number or array in the code): ``text`` is how it appears in an expression."""

    name: str
    text: str
    value: np.ndarray


@dataclass(frozen=True, eq=False)
class ForwardRow:
    """One assignment of the Wengert list, ``name = expr = value``; in forward mode also its tangent.

    ``kind`` is ``"input"`` (an argument differentiated), ``"parameter"`` (a Parameter or a Tensor the
    function captured), ``"data"`` (an argument left out by ``argnums``) or ``"operation"``.
    ``inputs`` names the operands in order: variables (``v2``) and constants (``c1``).
    """

    name: str
    kind: str
    op: str
    expr: str
    value: np.ndarray
    inputs: tuple = ()
    label: str | None = None
    tangent: np.ndarray | None = None
    tangent_terms: tuple = ()


@dataclass(frozen=True, eq=False)
class Term:
    """One path's share: reverse ``v̄j · ∂vj/∂vi`` (``source`` = the child vj), forward ``∂vi/∂vj · v̇j``.

    ``local`` holds the local partial's numbers when it is a number (``kind="scalar"``) or a diagonal
    (``"elementwise"``, shown with ∘); for other tensor operations (``"vjp"``/``"jvp"``) only the
    product itself, ``value``, is computed, by the primitive's own rule.
    """

    source: str
    partial: str
    rule: str | None
    kind: str
    upstream: np.ndarray
    local: np.ndarray | None
    value: np.ndarray

    @property
    def symbol(self):
        """· for a product with a number or a vector-Jacobian product, ∘ for an elementwise (Hadamard) one."""
        return "∘" if self.kind == "elementwise" else "·"


@dataclass(frozen=True, eq=False)
class BackwardRow:
    """``v̄i = Σ_children v̄j · ∂vj/∂vi``: the adjoint of ``name`` and the terms it sums (none for the output)."""

    name: str
    adjoint: np.ndarray
    terms: tuple = ()

    @property
    def expr(self):
        """The symbolic sum, ``v̄3 · ∂v3/∂v2 + v̄4 · ∂v4/∂v2`` (``1`` for the output's seed)."""
        return " + ".join(f"{bar(t.source)} {t.symbol} {t.partial}" for t in self.terms) or "1"


@dataclass(frozen=True, eq=False)
class GradientRow:
    """The gradient of the output with respect to one input: ``∂f/∂x = x̄ = v̄1``."""

    label: str
    name: str
    value: np.ndarray


@dataclass(eq=False)
class Explanation:
    """What :func:`explain` returns: ``str()`` is the table; the rows are data.

    ``forward`` (:class:`ForwardRow`), ``backward`` (:class:`BackwardRow`, reverse mode, output first),
    ``gradients`` (:class:`GradientRow`, reverse mode), ``constants`` (:class:`ConstantRow`);
    ``output`` names the output variable, ``value`` is its value, ``tangent`` its tangent (forward mode).
    """

    mode: str
    function: str
    forward: tuple
    backward: tuple
    gradients: tuple
    constants: tuple
    output: str
    value: np.ndarray
    seed: np.ndarray | None = None
    tangent: np.ndarray | None = None
    precision: int = 6

    def row(self, name):
        """The forward row of variable ``name`` (``"v4"``) or of an input's label (``"x"``)."""
        for r in self.forward:
            if r.name == name or r.label == name:
                return r
        raise KeyError(name)

    def adjoint(self, name):
        """The adjoint v̄ of variable ``name`` or input label, as an array."""
        target = self.row(name).name
        for r in self.backward:
            if r.name == target:
                return r.adjoint
        raise KeyError(f"{name} has no adjoint (it does not depend on a differentiated input)")

    def to_text(self, ascii=False):
        """The table as text; ``ascii=True`` spells v̄3 as v3_bar and · as * for plain terminals."""
        text = _render(self)
        return to_ascii(text) if ascii else text

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return f"<Explanation of {self.function} ({self.mode} mode): {len(self.forward)} assignments>"

    def _repr_pretty_(self, printer, cycle):  # IPython and Jupyter print the table
        printer.text(str(self))


# ---- recording the forward pass ---------------------------------------------------
def _function_name(f):
    name = getattr(f, "__name__", "f")
    return name if isinstance(name, str) and name.isidentifier() else "f"


def _input_names(f, n, names):
    if names is not None:
        names = [str(x) for x in names]
        if len(names) != n:
            raise ValueError(f"explain: names= has {len(names)} entries but {n} arguments were given")
        return names
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    out = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            out.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            break
    while len(out) < n:
        out.append(f"x{len(out) + 1}")
    return out[:n]


def _closure_names(f):
    """Names under which ``f`` sees Tensors it did not get as arguments (globals and closure cells)."""
    try:
        found = inspect.getclosurevars(f)
    except (TypeError, ValueError):
        return {}
    return {id(v): k for m in (found.globals, found.nonlocals) for k, v in m.items() if isinstance(v, Tensor)}


def _leaf(arg, label, differentiate):
    """A fresh Tensor for one argument: the caller's Tensors and their .grad are never touched."""
    data = np.asarray(arg.data if isinstance(arg, Tensor) else arg)
    if data.dtype == object:
        raise TypeError(
            f"explain: argument {label!r} is a {type(arg).__name__}; pass numbers, arrays or "
            f"Tensors, and close over anything else"
        )
    kind = "parameter" if type(arg).__name__ == "Parameter" else "input"
    if not differentiate:
        kind = "data"
    elif data.dtype.kind in "iub":
        data = data.astype(np.float64)  # an integer input is differentiated as a float, as cr.grad does
    if data.dtype.kind in "fc":
        # Data arguments are recorded too (so their operations are listed), never differentiated.
        return Tensor(np.array(data), requires_grad=True), kind
    if differentiate:
        check_float_for_grad(data.dtype, "explain")
    return Tensor(np.array(data)), kind


def _record(f, leaves):
    trace = []
    tracers = _primitive._TRACERS
    tracers.append(trace)
    try:
        with enable_grad():
            out = f(*leaves)
    finally:
        for k in range(len(tracers) - 1, -1, -1):
            if tracers[k] is trace:  # lists compare by value: remove this one by identity
                del tracers[k]
                break
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(
            "explain: f must return one Tensor (a scalar loss, usually), not a "
            f"{type(out).__name__}; explain each output separately"
        )
    if not isinstance(out, Tensor) or out._node is None:
        raise ValueError(
            "explain: the output of f does not depend on its inputs, so there is nothing to "
            "differentiate; compute it from the arguments with chainrule or NumPy operations"
        )
    return out, trace


@dataclass(eq=False)
class _Graph:
    names: dict  # Node or id(Tensor) -> variable name
    rows: list  # [name, kind, label, value, entry-or-None, operands]
    constants: list

    def texts(self, operands):
        """Operands as they appear in formulas: variable names, and constants by value (negatives bracketed)."""
        shown = {c.name: c.text for c in self.constants}
        return [_factor(shown[o]) if o in shown else o for o in operands]


def _build(f, leaves, kinds, labels, out, trace):
    """Number the recorded values: the inputs v1..vn, then each operation the output depends on."""
    names, rows = {}, []

    def add_input(data, node, kind, label):
        name = f"v{len(rows) + 1}"
        names[node if node is not None else id(data)] = name  # integer data has no node: known by its array
        rows.append([name, kind, label, data, None, ()])

    for t, kind, label in zip(leaves, kinds, labels):
        add_input(t.data, t._node, kind, label)
    entries = {e[4]: e for e in trace if e[4] is not None}
    keep, stack = set(), [out._node]  # only what the output depends on (not dead code, not other threads)
    while stack:
        n = stack.pop()
        if n in keep or n not in entries:
            continue
        keep.add(n)
        stack.extend(p for p in entries[n][2] if p is not None)
    if out._node not in keep and out._node not in names:
        raise ValueError("explain: the output was computed outside f (or while recording was off)")
    entries = {n: e for n, e in entries.items() if n in keep}
    captured = _closure_names(f)
    for _, datas, parents, _, _, _ in entries.values():
        for data, p in zip(datas, parents):
            if p is not None and p.prim is None and p not in names:  # a leaf f captured: a parameter
                user = p.leaf()
                label = captured.get(id(user)) or f"p{sum(r[1] == 'parameter' for r in rows) + 1}"
                add_input(np.asarray(data), p, "parameter", label)
    constants = []
    for node, (_, datas, parents, _, _, ans) in entries.items():
        operands = []
        for data, p in zip(datas, parents):
            key = p if p is not None else id(data)
            if key in names:
                operands.append(names[key])
                continue
            value = np.asarray(data)  # a constant: a number or array in f, or a value made outside f
            cname = f"c{len(constants) + 1}"
            constants.append(ConstantRow(cname, _num(value.item(), 6) if value.ndim == 0 else cname, value))
            operands.append(cname)
        name = f"v{len(rows) + 1}"
        names[node] = name
        rows.append([name, "operation", None, ans, entries[node], tuple(operands)])
    return _Graph(names, rows, constants)


# ---- the local derivatives, from each primitive's own rules ------------------------
def _conform(r, like):
    r = np.asarray(r.data if isinstance(r, Tensor) else r)
    if r.shape != like.shape:
        try:
            r = _sum_to(r, like.shape)  # undo broadcasting, as the engine does once for every rule
        except ValueError:
            r = np.broadcast_to(r, like.shape).copy()
    if r.dtype != like.dtype and like.dtype.kind in "fc":
        r = r.astype(like.dtype)
    return r


def _vjp(prim, i, g, ans, argv, kw, like):
    rule = prim.vjp_rule(i)
    with no_grad():
        r = rule(wrap(np.asarray(g)), wrap(ans), *argv, **kw)
    return np.zeros_like(like) if r is None else _conform(r, like)


def _jvp(prim, i, t, ans, argv, kw):
    if prim.jvp is None or (not prim.joint_jvp and (i >= len(prim.jvp) or prim.jvp[i] is None)):
        raise NotImplementedError(
            f"explain: no forward-mode (jvp) rule for input {i} of {prim.name!r}; use mode='reverse'"
        )
    with no_grad():
        if prim.joint_jvp:
            ts = [wrap(np.zeros(np.shape(a.data if isinstance(a, Tensor) else a), ans.dtype)) for a in argv]
            ts[i] = wrap(np.asarray(t))
            r = prim.jvp(ts, wrap(ans), *argv, **kw)
        else:
            r = prim.jvp[i](wrap(np.asarray(t)), wrap(ans), *argv, **kw)
    r = np.asarray(r.data if isinstance(r, Tensor) else r)
    if r.shape != ans.shape:
        r = np.broadcast_to(r, ans.shape).copy()
    return r.astype(ans.dtype) if r.dtype != ans.dtype and ans.dtype.kind in "fc" else r


def _term(mode, graph, row, parent, upstream, values):
    """The share of one parent-child edge: reverse v̄child · ∂child/∂parent, forward ∂child/∂parent · v̇parent."""
    name, _, _, ans, (prim, datas, _, kw, _, _), operands = row
    positions = [i for i, o in enumerate(operands) if o == parent]
    argv = [wrap(values[o]) if o in values else d for o, d in zip(operands, datas)]
    like = values[parent]
    texts = graph.texts(operands)

    def share(u):
        parts = [
            _vjp(prim, i, u, ans, argv, kw, like) if mode == "reverse" else _jvp(prim, i, u, ans, argv, kw)
            for i in positions
        ]
        return sum(parts[1:], parts[0])

    value = share(upstream)
    forms = [_partial_formula(prim.name, i, texts, name) for i in positions]
    formula = " + ".join(forms) if all(f is not None for f in forms) else None
    if ans.size == 1 and (mode == "reverse" or like.size == 1):
        kind, local, rule = "scalar", share(np.ones_like(ans if mode == "reverse" else like)), formula
    elif (prim.name in _PARTIALS or prim.name == "power") and like.shape == ans.shape:
        kind, local, rule = "elementwise", share(np.ones_like(ans)), formula
    else:
        kind, local, rule = ("vjp" if mode == "reverse" else "jvp"), None, None
        if mode == "reverse":
            vjps = _VJPS.get(prim.name)
            if vjps is not None:
                rule = " + ".join(vjps[min(i, len(vjps) - 1)].format(*texts, g=bar(name), out=name) for i in positions)
            elif formula is not None:  # elementwise, but broadcast: the shares are summed back to the shape
                body = bar(name) if formula == "1" else f"{bar(name)} ∘ {formula}"
                rule = f"sum_to({body}, {like.shape})"
    source = name if mode == "reverse" else parent
    return Term(source, f"∂{name}/∂{parent}", rule, kind, upstream, local, value)


# ---- explain -----------------------------------------------------------------------
def explain(f, *args, mode="reverse", argnums=None, direction=None, seed=None, names=None, precision=6):
    """Run ``f(*args)`` and show how automatic differentiation computes its derivatives, step by step.

    Reverse mode (the default) lists the forward pass as a Wengert list (``v4 = v1 + v2 = 3``), then the
    adjoints in the notes' bar notation, v̄ = ∂f/∂v, from the output back: ``v̄3 = v̄5 · ∂v5/∂v3 = 1 · 3 = 3``,
    summing over children where a value is used twice (gradients add at branches), then each input's
    gradient. ``mode="forward"`` instead carries a tangent v̇ next to each value (dual numbers) for one
    input ``direction``: an argument's index or name (its tangent is ones, the others zero), or one tangent
    per argument; the default is the first argument.

    ``argnums`` picks the arguments to differentiate (the others are data: listed, not differentiated);
    ``seed`` is the output's adjoint (default 1, or ones for a non-scalar output); ``names`` overrides
    the argument names taken from ``f``'s signature. The derivatives come from the primitives' own rules,
    so they are exactly what ``backward`` computes.

    >>> import chainrule as cr
    >>> ex = cr.explain(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
    >>> [float(g.value) for g in ex.gradients]
    [-4.0, -4.0, 3.0]
    >>> print(ex.backward[2].expr)
    v̄5 · ∂v5/∂v3
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"explain: mode must be 'reverse' or 'forward', got {mode!r}")
    if not callable(f):
        raise TypeError(f"explain: the first argument must be a function, got {type(f).__name__}")
    if not args:
        raise TypeError("explain: give the function's arguments after it, e.g. cr.explain(f, 2.0, 5.0)")
    labels = _input_names(f, len(args), names)
    wanted = _argnums(argnums, len(args))
    leaves, kinds = zip(*(_leaf(a, labels[i], i in wanted) for i, a in enumerate(args)))
    out, trace = _record(f, leaves)
    graph = _build(f, leaves, kinds, labels, out, trace)
    values = {r[0]: r[3] for r in graph.rows}
    output = graph.names[out._node]
    needed = set()  # variables that depend on a differentiated input
    for name, kind, _, _, _, operands in graph.rows:
        if kind in ("input", "parameter") or any(o in needed for o in operands):
            needed.add(name)
    if output not in needed:
        raise ValueError("explain: the output does not depend on any differentiated argument (see argnums=)")
    rows = {r[0]: r for r in graph.rows}
    forward, backward, gradients, tangent = [], (), (), None
    if mode == "reverse":
        s = np.ones_like(out.data) if seed is None else _fit(seed, out.data, "seed")
        backward, adjoints = _reverse(graph, rows, values, needed, output, s)
        gradients = tuple(
            GradientRow(r[2], r[0], adjoints.get(r[0], np.zeros_like(r[3])))
            for r in graph.rows
            if r[1] in ("input", "parameter")
        )
        tangents, terms = {}, {}
    else:
        s = None
        tangents = _directions(direction, graph, labels, wanted, values)
        terms = _forward(graph, rows, values, needed, tangents)
        tangent = tangents[output]
    for name, kind, label, value, entry, operands in graph.rows:
        if entry is None:
            expr, op = label, kind
        else:
            expr = _expression(
                entry[0].name, graph.texts(operands), entry[3], np.shape(entry[1][0]) if entry[1] else ()
            )
            op = entry[0].name
        forward.append(
            ForwardRow(name, kind, op, expr, value, operands, label, tangents.get(name), terms.get(name, ()))
        )
    return Explanation(
        mode,
        _function_name(f),
        tuple(forward),
        tuple(backward),
        gradients,
        tuple(graph.constants),
        output,
        out.data,
        s,
        tangent,
        precision,
    )


def _argnums(argnums, n):
    if argnums is None:
        return set(range(n))
    nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    for k in nums:
        if not -n <= k < n:
            raise ValueError(f"explain: argnums {k} is out of range for {n} arguments")
    return {k % n for k in nums}


def _fit(value, like, what):
    a = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=like.dtype)
    try:
        return np.array(np.broadcast_to(a, like.shape))
    except ValueError:
        raise ValueError(f"explain: {what} has shape {a.shape} but must have shape {like.shape}") from None


def _reverse(graph, rows, values, needed, output, seed):
    """Adjoints from the output back: v̄i = Σ over children j of v̄j · ∂vj/∂vi, each term by the rules."""
    pending = {name: [] for name in rows}
    order = {name: k for k, name in enumerate(rows)}
    adjoints, backward = {}, []
    for name in reversed(list(rows)):
        if name not in needed:
            continue
        if name == output:
            adj, terms = seed, ()
        else:
            terms = tuple(sorted(pending[name], key=lambda t: order[t.source]))
            if not terms:
                continue  # an argument the output does not use: its gradient is zero
            adj = sum((t.value for t in terms[1:]), terms[0].value)
        adjoints[name] = adj
        backward.append(BackwardRow(name, adj, terms))
        row = rows[name]
        if row[4] is None:
            continue
        for parent in dict.fromkeys(row[5]):
            if parent in needed:
                pending[parent].append(_term("reverse", graph, row, parent, adj, values))
    return tuple(backward), adjoints


def _directions(direction, graph, labels, wanted, values):
    inputs = [r for r in graph.rows if r[4] is None]
    argrows = inputs[: len(labels)]
    if direction is None:
        direction = min(wanted)
    if isinstance(direction, str):
        if direction not in labels:
            raise ValueError(f"explain: direction {direction!r} is not an argument name ({', '.join(labels)})")
        direction = labels.index(direction)
    tangents = {r[0]: np.zeros_like(r[3]) for r in inputs}
    if isinstance(direction, (int, np.integer)):
        if not -len(labels) <= direction < len(labels) or direction % len(labels) not in wanted:
            raise ValueError(f"explain: direction {direction} is not a differentiated argument")
        row = argrows[direction % len(labels)]
        tangents[row[0]] = np.ones_like(row[3])
        return tangents
    direction = list(direction)
    if len(direction) != len(labels):
        raise ValueError(f"explain: direction has {len(direction)} tangents but there are {len(labels)} arguments")
    for k, (row, t) in enumerate(zip(argrows, direction)):
        if t is not None:
            if k not in wanted:
                raise ValueError(f"explain: argument {labels[k]!r} is data (not in argnums), so its tangent is 0")
            tangents[row[0]] = _fit(t, row[3], f"the tangent of {labels[k]!r}")
    return tangents


def _forward(graph, rows, values, needed, tangents):
    """Tangents from the inputs on: v̇j = Σ over parents i of ∂vj/∂vi · v̇i (dual numbers)."""
    terms = {}
    for name, row in rows.items():
        if row[4] is None:
            continue
        parts = tuple(
            _term("forward", graph, row, p, tangents[p], values) for p in dict.fromkeys(row[5]) if p in needed
        )
        terms[name] = parts
        tangents[name] = sum((t.value for t in parts[1:]), parts[0].value) if parts else np.zeros_like(row[3])
    return terms


# ---- the table ---------------------------------------------------------------------
def _grouped(formula):
    """A formula as a factor: bracketed unless it is one name, number or call (``cos(v2)``)."""
    depth = 0
    for c in formula:
        depth += (c == "(") - (c == ")")
        if depth == 0 and c in " +-·/^":
            return f"({formula})"
    return formula


def _numbers(t, mode, fv):
    """The numbers of one term: ``1 · (-4)``, ``[..] ∘ [..]``, or just the product for a tensor rule."""
    up, local = fv(t.upstream), fv(t.local) if t.local is not None else None
    if t.kind == "scalar":
        if t.rule == "1" and mode == "forward":
            return up
        first, second = (up, local) if mode == "reverse" else (local, up)
        return f"{_factor(first)} · {_factor(second)}"
    if t.kind == "elementwise":
        return f"{up} ∘ {local}" if mode == "reverse" else f"{local} ∘ {up}"
    return fv(t.value)


def _tangent_symbol(t):
    if t.kind in ("scalar", "elementwise") and t.rule is not None:
        if t.rule == "1":
            return dot(t.source)
        if t.rule == "-1":
            return "-" + dot(t.source)
        return f"{_grouped(t.rule)} {t.symbol} {dot(t.source)}"
    return f"{t.partial} · {dot(t.source)}"


_MIDDLE = 60  # longest "1 · 2 + 1 · 0.28" part shown; past that (big tensors) only the result is printed


def _table(lines, rows):
    """Rows of columns, each column padded to its widest entry (combining marks take no width)."""
    if not rows:
        return
    widths = [max((_width(r[k]) for r in rows if len(r) > k), default=0) for k in range(max(map(len, rows)))]
    for r in rows:
        cells = [_pad(c, widths[k]) if k < len(r) - 1 else c for k, c in enumerate(r)]
        lines.append(("  " + "  ".join(cells)).rstrip())


def _render(ex):
    def fv(v, shape=False):
        return format_value(v, ex.precision, shape=shape)

    inputs = [r for r in ex.forward if r.kind != "operation"]
    tags = {"data": "(data)", "parameter": "(parameter)"}
    lines = [f"{ex.function}({', '.join(r.label for r in inputs)}), {ex.mode} mode", ""]
    if ex.mode == "forward":
        direction = ", ".join(f"{dot(r.label)} = {fv(r.tangent)}" for r in inputs if r.kind != "data")
        lines.append(f"Forward mode: each value v with its tangent v̇ (a dual number), for {direction}")
    else:
        lines.append("Forward pass (Wengert list)")
    rows, pending = (
        [],
        [[f"{c.name} = {fv(c.value, True)}", "", "(constant)"] for c in ex.constants if c.text == c.name],
    )  # array constants, listed after the inputs
    for r in ex.forward:
        if r.kind == "operation" and pending:
            rows, pending = rows + pending, []
        row = [f"{r.name} = {r.expr}", f"= {fv(r.value, True)}"]
        if ex.mode == "forward":
            if r.kind != "operation":
                row.append(f"{dot(r.name)} = {dot(r.label)} = {fv(r.tangent, True)}")
            elif not r.tangent_terms:
                row.append(f"{dot(r.name)} = 0")
            else:
                ts = r.tangent_terms
                sym = " + ".join(_tangent_symbol(t) for t in ts).replace(" + -", " - ")
                nums = " + ".join(_numbers(t, "forward", fv) for t in ts)
                plain = len(ts) == 1 and (ts[0].kind == "jvp" or ts[0].rule in ("1", "-1") and nums == fv(r.tangent))
                plain = plain or _width(nums) > _MIDDLE
                row.append(f"{dot(r.name)} = {sym}" + ("" if plain else f" = {nums}") + f" = {fv(r.tangent, True)}")
        row.append(f"← {ex.function}" if r.name == ex.output else tags.get(r.kind, ""))
        rows.append(row)
    _table(lines, rows)
    if ex.mode == "forward":
        moved = [r for r in inputs if r.kind != "data" and np.any(r.tangent)]
        meaning = " + ".join(f"∂{ex.function}/∂{r.label} · {dot(r.label)}" for r in moved) or "0"
        if len(moved) == 1 and moved[0].tangent.size == 1 and moved[0].tangent.item() == 1:
            meaning = f"∂{ex.function}/∂{moved[0].label}"
        lines += [
            "",
            "Result",
            f"  {ex.function} = {ex.output} = {fv(ex.value, True)}",
            f"  {dot(ex.output)} = {fv(ex.tangent, True)} = {meaning}",
        ]
        return "\n".join(lines)
    ones = np.all(ex.seed == 1)
    start = f"{bar(ex.output)} = 1" if ones else f"{bar(ex.output)} = the given seed"
    lines += ["", f"Backward pass: adjoints v̄ = ∂{ex.function}/∂v, from {start}; gradients add at branches"]
    rows = []
    for r in ex.backward:
        if not r.terms:
            rows.append([bar(r.name), f"= {fv(r.adjoint, True)}", ""])
            continue
        nums = " + ".join(_numbers(t, "reverse", fv) for t in r.terms)
        single = len(r.terms) == 1 and r.terms[0].kind == "vjp"
        middle = "" if single or _width(nums) > _MIDDLE else f"{nums} = "
        notes = []
        for t in r.terms:
            if t.rule is not None and t.kind == "vjp":
                notes.append(f"{bar(t.source)} · {t.partial} = {t.rule}")
            elif t.rule is not None:
                notes.append(f"{t.partial} = {t.rule}")
        rows.append([f"{bar(r.name)} = {r.expr}", f"= {middle}{fv(r.adjoint, True)}", "; ".join(notes)])
    _table(lines, rows)
    lines += ["", "Gradients"]
    reached = {r.name for r in ex.backward}
    rows = []
    for g in ex.gradients:
        unused = "" if g.name in reached else f"   (not used by {ex.function})"
        rows.append([f"∂{ex.function}/∂{g.label} = {bar(g.label)} = {bar(g.name)}", f"= {fv(g.value, True)}{unused}"])
    _table(lines, rows)
    return "\n".join(lines)
