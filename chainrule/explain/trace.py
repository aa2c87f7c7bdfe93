"""Recording ``f(*args)`` for an explanation: the arguments' names, every operation's trace, the numbered graph."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

import numpy as np

from ..core.primitive import tracing
from ..core.state import enable_grad
from ..core.tensor import Tensor, check_float_for_grad
from ..nn.module import Module, Parameter
from ..viz import formulas
from ..viz.notation import constant_text
from .rows import ConstantRow

__all__ = ["build", "captured_names", "function_name", "input_names", "is_value", "leaf", "letters", "record"]


# ---- names -------------------------------------------------------------------------
def function_name(f):
    if isinstance(f, Module):
        return type(f).__name__
    name = getattr(f, "__name__", "f")
    return name if isinstance(name, str) and name.isidentifier() else "f"


def _signature_of(f):
    target = f.forward if isinstance(f, Module) else f
    try:
        return list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return []


def input_names(f, n, names):
    if names is not None:
        names = [str(x) for x in names]
        if len(names) != n:
            raise ValueError(f"explain: names= has {len(names)} entries but {n} arguments were given")
        return names
    out = []
    for p in _signature_of(f):
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            out.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            break
    while len(out) < n:
        out.append(f"x{len(out) + 1}")
    return out[:n]


def captured_names(f):
    """Names under which ``f`` reaches Tensors it does not take as arguments: ``W`` for a global or closure
    Tensor, ``net.0.weight`` for a parameter of a Module it uses, ``0.weight`` when ``f`` is the Module."""
    found = {}

    def add_module(m, prefix):
        for name, p in m.named_parameters():
            found.setdefault(id(p), prefix + name)

    owner = getattr(f, "__self__", f)  # a bound method reaches its Module's parameters
    if isinstance(owner, Module):
        add_module(owner, "")
    try:
        seen = inspect.getclosurevars(f)
    except (TypeError, ValueError):
        return found
    for table in (seen.nonlocals, seen.globals):
        for key, value in table.items():
            if isinstance(value, Tensor):
                found.setdefault(id(value), key)
            elif isinstance(value, Module):
                add_module(value, key + ".")
    return found


def _pick(candidates, taken):
    return next(c for c in candidates if c not in taken)


def letters(labels, function):
    """Letters for variables and constants, and the function's name, that no argument name can be mistaken for."""

    def clashes(letter):
        return any(re.fullmatch(re.escape(letter) + r"\d+", x) for x in labels + [function])

    letter = _pick([c for c in "vuwzqsr" if not clashes(c)] + ["var"], ())
    const = _pick([c for c in "ckdeb" if not clashes(c) and c != letter] + ["const"], ())
    taken = set(labels) | {letter, const}
    if function in taken or re.fullmatch(re.escape(letter) + r"\d+", function):
        function = _pick(["f", "g", "h", "F", "L", "out"], taken)
    return letter, const, function


# ---- recording the forward pass ---------------------------------------------------


def leaf(arg, label, differentiate):
    """A fresh Tensor for one argument: the caller's Tensors and their .grad are never touched."""
    data = np.asarray(arg.data if isinstance(arg, Tensor) else arg)
    if data.dtype == object:
        raise TypeError(
            f"explain: argument {label!r} is a {type(arg).__name__}; pass numbers, arrays or "
            f"Tensors, and close over anything else"
        )
    kind = "parameter" if isinstance(arg, Parameter) else "input"  # the class itself: subclasses count
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


def record(f, leaves):
    trace = []
    with tracing(trace.append), enable_grad():
        out = f(*leaves)
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(
            "explain: f must return one Tensor (a scalar loss, usually), not a "
            f"{type(out).__name__}; explain each output separately"
        )
    if isinstance(out, Tensor) and out._node is None and any(e[4] is not None for e in trace):
        # f computed on the graph, but what it returns came off it: a non-differentiable step
        raise ValueError(
            "explain: the output of f comes from its inputs only through an operation with no derivative "
            "(a comparison, argmax, a mask, ...: its result is not on the graph), so every gradient is "
            "0, as cr.grad returns, and there are no adjoints to show"
        )
    if isinstance(out, Tensor) and out._node is None:
        raise ValueError(
            "explain: the output of f has no derivative path to its inputs: either it does not depend on them, or it "
            "comes from an operation with no derivative (a comparison, argmax, a mask, ...: its result is not on "
            "the graph), so every gradient is 0, as cr.grad returns, and there are no adjoints to show"
        )
    if not isinstance(out, Tensor):
        raise ValueError(
            "explain: the output of f does not depend on its inputs, so there is nothing to "
            "differentiate; compute it from the arguments with chainrule or NumPy operations"
        )
    return out, trace


def is_value(data):
    """An operand that is a number or an array (a constant); anything else (None, a shape) is a literal."""
    return isinstance(data, (np.ndarray, np.generic, int, float, complex)) and not isinstance(data, bool)


@dataclass(eq=False)
class _Op:
    name: str
    kind: str
    label: str | None
    value: np.ndarray
    entry: tuple | None  # (prim, datas, parents, kw, node, ans) as recorded; None for an input
    operands: tuple = ()  # per argument: a variable or constant name, or None for a literal (None, a shape)


@dataclass(eq=False)
class _Graph:
    names: dict  # Node or id(array) -> variable name
    ops: dict  # name -> _Op, in the order computed
    constants: list

    def texts(self, op, bracket=True):
        """The operands as formulas show them: names, constants by value, literals (None stays None).

        ``bracket`` puts negative numbers in brackets, as factors of a product need (``v1 · (-4)``).
        """
        shown = {c.name: c.text for c in self.constants}
        out = []
        for o, d in zip(op.operands, op.entry[1]):
            if o is None:
                out.append(None if d is None else formulas.literal(d))
            elif o in shown:
                out.append(_factor(shown[o]) if bracket else shown[o])
            else:
                out.append(o)
        return out

    def values(self, op):
        """The constant operands' values (None for variables and literals), for formulas such as x²."""
        consts = {c.name: c.value for c in self.constants}
        return [consts.get(o) for o in op.operands]


def _factor(text):
    """A number inside a product, parenthesised when negative: 1 · (-4)."""
    return f"({text})" if text.startswith("-") else text


def build(f, leaves, kinds, labels, out, trace, letter, const, precision):
    """Number the recorded values: the inputs, then each operation the output depends on."""
    names, ops = {}, {}

    def add(node_key, op):
        names[node_key] = op.name
        ops[op.name] = op

    for t, kind, label in zip(leaves, kinds, labels):
        # integer data has no node: it is known by its array
        add(t._node if t._node is not None else id(t.data), _Op(f"{letter}{len(ops) + 1}", kind, label, t.data, None))
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
    captured = captured_names(f)
    for _, datas, parents, _, _, _ in entries.values():
        for data, p in zip(datas, parents):
            if p is not None and p.prim is None and p not in names:  # a leaf f captured: a parameter
                count = sum(op.kind == "parameter" for op in ops.values()) + 1
                label = captured.get(id(p.leaf())) or f"p{count}"
                add(p, _Op(f"{letter}{len(ops) + 1}", "parameter", label, np.asarray(data), None))
    constants = []
    for node, entry in entries.items():
        prim, datas, parents, kw, _, ans = entry
        operands = []
        for data, p in zip(datas, parents):
            key = p if p is not None else id(data)
            if key in names:
                operands.append(names[key])
            elif p is None and not is_value(data):
                operands.append(None)  # None (a Linear without bias), a shape: part of the call, not a value
            else:
                value = np.asarray(data)  # a constant: a number or array in f, or a value made outside f
                cname = f"{const}{len(constants) + 1}"
                constants.append(
                    ConstantRow(cname, constant_text(value, precision) if value.ndim == 0 else cname, value)
                )
                operands.append(cname)
        if prim.no_op is not None and operands[0] is not None and prim.no_op(ans, *datas, **kw):
            names[node] = operands[0]  # it leaves its input as it was: the same value, no step
            continue
        add(node, _Op(f"{letter}{len(ops) + 1}", "operation", None, ans, entry, tuple(operands)))
    return _Graph(names, ops, constants)
