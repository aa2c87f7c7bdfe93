"""Graphviz DOT text of a computation graph: from a Tensor's tape, or from an explanation (every value and adjoint)."""

from __future__ import annotations

import numpy as np

from ..core.tensor import Tensor
from ..explain import Explanation, bar, dot, format_value

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

    def render(self, fmt="svg"):
        from .render import render

        return render(self, fmt)

    def _repr_svg_(self):
        try:
            return self.render("svg").decode("utf-8")
        except RuntimeError:
            return None  # no renderer: Jupyter falls back to showing the text


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
    """Graphviz DOT text of the graph behind ``obj``: a Tensor, or the result of :func:`chainrule.explain`.

    From a Tensor it shows what the tape knows: each operation with its output shape, values where the
    tape still holds them (the output itself, leaves, and saved results before ``backward`` frees them)
    and, after ``backward``, the leaves' ``.grad``. Intermediate nodes do not keep gradients, so pass
    ``grads={tensor: gradient}`` to show some (e.g. from ``cr.autograd.grad``), or draw an explanation:
    ``to_dot(cr.explain(f, *args))`` labels every node with its value and its adjoint v̄ (forward mode:
    its tangent v̇), and every edge with its share v̄j · ∂vj/∂vi where that is a number.
    ``names={tensor: "x"}`` names leaves. The result is a ``str`` that Jupyter draws inline.

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
    return _tensor_dot(roots, grads or {}, names or {}, rankdir, precision, max_size, title)


def _fmt(value, precision, max_size):
    return format_value(value, precision, max_size)


# ---- from an explanation: all values, all adjoints ------------------------------------
def _explanation_dot(ex, rankdir, precision, max_size, title):
    if title is None:
        title = f"{ex.function}, {ex.mode} mode"
        if ex.mode == "reverse":
            title += ": each edge carries v̄child · ∂child/∂parent back (red)"
    w = _Writer(title, rankdir)
    adjoints = {r.name: r.adjoint for r in ex.backward}
    shares = {(t.source, r.name): t.value for r in ex.backward for t in r.terms}  # (child, parent) -> v̄j·∂vj/∂vi
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
            share = shares.get((r.name, src))
            label = _fmt(share, precision, max_size) if share is not None and share.size == 1 else None
            w.edge(src, r.name, label)
    return w.source()


# ---- from a Tensor: what the tape holds -----------------------------------------------
def _leaf_kind(leaf):
    return "parameter" if leaf is not None and type(leaf).__name__ == "Parameter" else "input"


def _static(kw):
    shown = []
    for key, val in (kw or {}).items():
        if val is None or val is False or key.endswith("shape"):
            continue
        if isinstance(val, tuple) and len(val) == 1:
            val = val[0]
        shown.append(f"{key}={val}")
    return ", ".join(shown)


def _tensor_dot(roots, grads, names, rankdir, precision, max_size, title):
    from ..core.backward import toposort

    by_node = {}
    for key, g in grads.items():
        node = key._node if isinstance(key, Tensor) else key
        if node is not None:
            by_node[node] = g.data if isinstance(g, Tensor) else np.asarray(g)
    named = {t._node: n for t, n in names.items() if isinstance(t, Tensor) and t._node is not None}
    outputs = {t._node: t for t in roots if t._node is not None}
    w = _Writer(title, rankdir)
    ids, constants = {}, 0
    for t in roots:
        if t._node is None:  # a Tensor with no graph is one constant node
            constants += 1
            w.node(f"c{constants}", "constant", ["constant", _fmt(t.data, precision, max_size)], output=True)
    order = toposort(list(outputs))
    for k, node in enumerate(order, 1):
        ids[node] = ident = f"n{k}"
        root = outputs.get(node)
        if node.prim is None:
            leaf = node.leaf()
            kind = _leaf_kind(leaf)
            lines = [named.get(node, kind)]
            value = leaf.data if leaf is not None else None
            grad = by_node.get(node)
            if grad is None and leaf is not None and leaf.grad is not None:
                grad = leaf.grad.data
        else:
            kind = "operation"
            static = _static(node.kw)
            lines = [node.prim.name + (f"({static})" if static else "")]
            value = root.data if root is not None else node.ans
            grad = by_node.get(node)
        if node.shape != ():
            lines.append(f"{node.shape} {node.dtype}")
        if value is not None:
            lines.append(format_value(value, precision, max_size, shape=False) if value.size <= max_size else "")
        if grad is not None:
            lines.append(f"grad = {format_value(grad, precision, max_size, shape=False)}")
        w.node(ident, kind, [line for line in lines if line], output=root is not None)
    for node in order:
        for i, p in enumerate(node.parents):
            if p is not None:
                w.edge(ids[p], ids[node])
                continue
            constants += 1
            value = node.args[i] if node.args is not None else None
            text = "constant" if value is None else _fmt(np.asarray(getattr(value, "data", value)), precision, max_size)
            w.node(f"c{constants}", "constant", [text])
            w.edge(f"c{constants}", ids[node])
    return w.source()
