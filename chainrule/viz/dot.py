"""Graphviz DOT text of a computation graph: from a Tensor's tape, or from an explanation (every value and adjoint)."""

from __future__ import annotations

import numpy as np

from ..core.shapes import shape_of
from ..core.backward import toposort
from ..core.tensor import Tensor
from ..explain.rows import Explanation
from ..nn.module import Parameter
from .formulas import HIDDEN, call_text, literal
from .notation import bar, dot, format_value
from .render import MAX_NODES, render
from .tape import CHANGED, node_adjoints, node_values

__all__ = ["STYLES", "DotSource", "to_dot"]

# One look per kind of node, so inputs, parameters, data and operations are told apart at a glance.
# Every style draws exactly one shape (no double borders), so the SVG has one shape per node.
STYLES = {
    "input": {"shape": "box", "style": "filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#fef3c7", "color": "#b45309"},
    "data": {"shape": "box", "style": "filled,dashed", "fillcolor": "#f3f4f6", "color": "#6b7280"},
    "constant": {"shape": "box", "style": "dashed", "color": "#9ca3af", "fontcolor": "#4b5563"},
    "operation": {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff", "color": "#374151"},
}
_GRAPH = (
    'graph [fontname="Helvetica", fontsize=12, labelloc=t];\n  node [fontname="Helvetica", fontsize=11];\n'
    '  edge [fontname="Helvetica", fontsize=10, color="#4b5563"];'
)


class DotSource(str):
    """DOT text (a ``str``) that Jupyter shows as a picture; ``render("svg"|"png")`` gives the bytes."""

    def render(self, fmt="svg", max_nodes=MAX_NODES):
        """The picture as bytes; ``max_nodes`` as for :func:`chainrule.viz.draw` (None: no limit)."""
        return render(self, fmt, max_nodes=max_nodes)

    def _repr_svg_(self):
        try:
            return self.render("svg").decode("utf-8")
        except RuntimeError:
            return None  # no renderer, or a graph too big to lay out soon: Jupyter shows the text


def _quote(text):
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _attrs(attrs):
    return ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())


class _Writer:
    def __init__(self, title, rankdir):
        self.lines = [f"digraph {_quote('chainrule')} {{", f"  rankdir={_quote(rankdir)};", "  " + _GRAPH]
        if title:
            self.lines.append(f"  label={_quote(title)};")
        self.edges = 0

    def node(self, ident, kind, lines, output=False):
        attrs = {"label": "\n".join(lines), **STYLES[kind], "id": ident}
        if output:
            attrs["penwidth"] = "2.5"
        self.lines.append(f"  {_quote(ident)} [{_attrs(attrs)}];")

    def edge(self, src, dst, label=None):
        self.edges += 1
        attrs = {"id": f"e{self.edges}:{src}->{dst}"}
        if label:
            attrs.update(label=label, fontcolor="#b91c1c")
        self.lines.append(f"  {_quote(src)} -> {_quote(dst)} [{_attrs(attrs)}];")

    def source(self):
        return DotSource("\n".join(self.lines + ["}", ""]))


def to_dot(obj, *, grads=None, names=None, rankdir="LR", precision=4, max_size=6, title=None):
    """Graphviz DOT text of the graph behind ``obj``: a Tensor (or a list of them), or an explanation.

    From :func:`chainrule.explain` every node shows its assignment, its value and its adjoint v̄ (forward
    mode: its tangent v̇), and every edge the part of the gradient it carries, v̄j · ∂vj/∂vi (forward
    mode: ∂vj/∂vi · v̇i), where that is a number; an operand used twice has two edges, each with its part.

    From a Tensor each node shows its operation, shape and dtype, and its value when it has at most
    ``max_size`` entries. Values come from what the tape holds (the output, the leaves, what operations
    saved for their rules, until ``backward`` frees it) and from recomputing operations whose operands
    are known; build the graph inside ``with cr.viz.record():`` to have every value and constant. Once
    ``backward`` has run (``grads=None``: when a leaf has a ``.grad``), or with ``grads=True``, nodes show
    ``grad``: a leaf its ``.grad``, any other node ∂output/∂node, which the tape does not keep, so
    ``to_dot`` computes it by its own reverse sweep (seeded with 1 at a scalar output) wherever the
    values its rules need are known. ``grads={tensor: gradient}`` gives gradients explicitly (e.g. from
    ``cr.autograd.grad``); ``grads=False`` shows none. ``names={tensor: "x"}`` names leaves. The result is
    a ``str`` that Jupyter draws inline.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> src = cr.viz.to_dot(x * x + 1)
    >>> src.startswith("digraph") and "multiply" in src
    True
    """
    if isinstance(obj, Explanation):
        return _explanation_dot(obj, rankdir, precision, max_size, title)
    roots = [obj] if isinstance(obj, Tensor) else list(obj) if isinstance(obj, (list, tuple)) else None
    if not roots or not all(isinstance(t, Tensor) for t in roots):
        raise TypeError(f"to_dot: expected a Tensor, a list of Tensors or an explanation, got {type(obj).__name__}")
    if not (grads is None or isinstance(grads, (bool, dict))):
        raise TypeError(
            f"to_dot: grads must be True, False, None or a dict of Tensor to gradient, got {type(grads).__name__}"
        )
    return _tensor_dot(roots, grads, names or {}, rankdir, precision, max_size, title)


def _fmt(value, precision, max_size):
    return format_value(value, precision, max_size)


# ---- from an explanation: all values, all adjoints ------------------------------------
def _edge_shares(ex):
    """``{(child, parent): [share per use]}``: each edge's own part, v̄j · ∂vj/∂vi (forward: ∂vj/∂vi · v̇i)."""
    if ex.mode == "reverse":
        return {(t.source, r.name): list(t.shares) for r in ex.backward for t in r.terms}
    return {(r.name, t.source): list(t.shares) for r in ex.forward for t in r.tangent_terms}


def _explanation_dot(ex, rankdir, precision, max_size, title):
    if title is None:
        title = f"{ex.function}, {ex.mode} mode"
        if ex.mode == "reverse":
            title += ": each edge carries v̄child · ∂child/∂parent back (red)"
        else:
            title += ": each edge carries ∂child/∂parent · v̇parent forward (red)"
    w = _Writer(title, rankdir)
    adjoints = {r.name: r.adjoint for r in ex.backward}
    shares = _edge_shares(ex)
    for c in ex.constants:
        w.node(c.name, "constant", [_fmt(c.value, precision, max_size)])
    used = {src for r in ex.forward for src in r.inputs} | {ex.output}
    for r in ex.forward:
        if r.kind == "data" and r.name not in used:
            continue  # data the graph never reads as an operand (e.g. labels used as an index)
        head = f"{r.name} = {r.label}" if r.kind != "operation" else f"{r.name} = {r.expr}"
        lines = [head, _fmt(r.value, precision, max_size)]
        if ex.mode == "reverse" and r.name in adjoints:
            lines.append(f"{bar(r.name)} = {_fmt(adjoints[r.name], precision, max_size)}")
        elif ex.mode == "forward" and r.tangent is not None:
            lines.append(f"{dot(r.name)} = {_fmt(r.tangent, precision, max_size)}")
        w.node(r.name, r.kind, lines, output=r.name == ex.output)
    for r in ex.forward:
        for src in r.inputs:
            parts = shares.get((r.name, src))
            share = parts.pop(0) if parts else None  # the k-th use of src takes the k-th part
            label = None if share is None or np.size(share) != 1 else format_value(share, precision, shape=False)
            w.edge(src, r.name, label)
    return w.source()


# ---- from a Tensor: what the tape holds -----------------------------------------------
def _leaf_kind(leaf):
    return "parameter" if isinstance(leaf, Parameter) else "input"  # the class itself: subclasses count


def _tensor_dot(roots, grads, names, rankdir, precision, max_size, title):
    given = {}
    for key, g in (grads if isinstance(grads, dict) else {}).items():
        node = key._node if isinstance(key, Tensor) else key
        if node is not None:
            given[node] = g.data if isinstance(g, Tensor) else np.asarray(g)
    named = {t._node: n for t, n in names.items() if isinstance(t, Tensor) and t._node is not None}
    outputs = {t._node: t for t in roots if t._node is not None}
    order = toposort(list(outputs))
    values, constants, notes = node_values(order, roots)
    leaves = [n.leaf() for n in order if n.prim is None]
    show = grads is True or (grads is None and any(t is not None and t.grad is not None for t in leaves))
    computed = node_adjoints(order, roots, values, constants) if show else {}

    def small(value):
        return value is not None and np.size(value) <= max_size

    changed = [key for key, note in notes.items() if note == CHANGED]
    lost = any(values.get(n) is None and np.prod(n.shape) <= max_size and n not in notes for n in order) or any(
        (n, i) not in constants and (n, i) not in notes for n in order for i, p in enumerate(n.parents) if p is None
    )
    if title is None and changed:
        title = (
            "values written in place after this graph used them (an optimiser step, t[i] = v) are left out: "
            "build the graph inside cr.viz.record() to keep the values it used"
        )
    elif title is None and lost:
        title = "values the tape does not keep are left out: build the graph inside cr.viz.record() to see them all"
    w = _Writer(title, rankdir)
    ids, count = {}, 0
    for t in roots:
        if t._node is None:  # a Tensor with no graph is one constant node
            count += 1
            w.node(f"c{count}", "constant", [_fmt(t.data, precision, max_size)], output=True)
    for k, node in enumerate(order, 1):
        ids[node] = f"n{k}"
        value, grad = values.get(node), given.get(node)
        if node.prim is None:
            leaf = node.leaf()
            kind = _leaf_kind(leaf)
            lines = [named.get(node, kind)]
            if grad is None and show and leaf is not None and leaf.grad is not None:
                grad = leaf.grad.data
        else:
            kind = "operation"
            lines = [_operation(node, constants)]
            if grad is None:
                grad = computed.get(node)
        if node.shape != ():
            lines.append(f"{node.shape} {node.dtype}")
        if small(value):
            lines.append(format_value(value, precision, max_size, shape=False))
        if node in notes:
            lines.append(f"({notes[node]})")
        if grad is not None:
            lines.append(f"grad = {format_value(grad, precision, max_size, shape=False)}")
        w.node(ids[node], kind, lines, output=node in outputs)
    for node in order:
        for i, p in enumerate(node.parents):
            if p is not None:
                w.edge(ids[p], ids[node])
                continue
            value = constants.get((node, i), _UNKNOWN)
            if value is not _UNKNOWN and not _is_value(value):
                continue  # None (a Linear without bias) or a shape: part of the operation, not a value
            count += 1
            if value is _UNKNOWN:
                lines = ["constant", f"({notes.get((node, i), 'not kept by the tape')})"]
            else:
                lines = [_fmt(np.asarray(value), precision, max_size)]
            w.node(f"c{count}", "constant", lines)
            w.edge(f"c{count}", ids[node])
    return w.source()


_UNKNOWN = object()


def _is_value(value):
    return isinstance(value, (np.ndarray, np.generic, int, float, complex)) and not isinstance(value, bool)


def _operation(node, constants):
    """The node's call without its value operands (they are the edges): ``sum(axis=1)``, ``broadcast_to((2, 3))``."""
    operands, shapes = [], []
    for i, p in enumerate(node.parents):
        c = constants.get((node, i), _UNKNOWN)
        if p is not None or c is _UNKNOWN or _is_value(c):
            operands.append(HIDDEN)
            shapes.append(p.shape if p is not None else None if c is _UNKNOWN else shape_of(c))
        else:
            operands.append(c if c is None else literal(c))  # None, a shape: written in the call
            shapes.append(None)
    return call_text(node.prim, operands, node.kw, shapes)
