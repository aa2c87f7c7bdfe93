"""cr.explain: the Wengert list of a forward pass and its backward adjoints in the notes' bar notation, with numbers.

Here: :func:`explain` and the two sweeps (adjoints back, tangents forward), each term by the primitives'
own rules. ``rows`` holds what it returns, ``trace`` the recording of ``f``; how the rows read (numbers,
calls, the table) lives in :mod:`chainrule.viz`.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core.backward import sweep
from ..core.node import Node, new_node
from ..core.primitive import output_tangent
from ..core.state import no_grad
from ..core.tensor import Tensor, wrap
from ..viz import formulas
from ..viz.notation import bar, dot, format_value, to_ascii
from . import trace
from .rows import BackwardRow, ConstantRow, Explanation, ForwardRow, GradientRow, Term

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


# ---- the shares of each edge, from the engine -------------------------------------------
def _array(x):
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _alone(node, saved, u):
    """Per input position i, the engine's contribution u · ∂node/∂input_i: its reverse sweep over this one
    operation (its inputs stood in for by fresh leaves), seeded with ``u``, on the values ``saved(node)``."""
    inputs = tuple(None if p is None else Node.for_leaf(None, p.shape, p.dtype) for p in node.parents)
    alone = new_node(node.prim, inputs, None, node.kw, None, node.shape, node.dtype)
    shares = {}
    sweep([(alone, u)], [p for p in inputs if p is not None], retain_graph=True, saved=lambda _: saved(node),
          on_edge=lambda n, i, p, g, c: shares.__setitem__(i, _array(c)))
    return shares


def _tangent(prim, i, t, ans, argv, kw):
    """The engine's tangent of ``prim``'s output for a tangent ``t`` on input ``i`` alone."""
    ts = [None] * len(argv)
    ts[i] = wrap(np.asarray(t))
    try:
        with no_grad():
            return _array(output_tangent(prim, ts, wrap(ans), argv, kw))
    except NotImplementedError as e:
        raise NotImplementedError(f"explain: {e}; use mode='reverse'") from None


def _tangents(prim, positions, ans, argv, kw, t):
    return [_tangent(prim, i, t, ans, argv, kw) for i in positions]


def _term(mode, graph, op, parent, upstream, shares, partials):
    """The share of one parent-child edge: reverse v̄child · ∂child/∂parent, forward ∂child/∂parent · v̇parent.

    ``shares`` holds one term per position of ``parent`` among the operands; ``partials(u)`` the same for
    another upstream value ``u`` (ones give the local derivative).
    """
    prim, _, _, kw, _, ans = op.entry
    name = op.name
    positions = [i for i, o in enumerate(op.operands) if o == parent]
    like = graph.ops[parent].value
    texts = [t if t is not None else "None" for t in graph.texts(op)]
    value = sum(shares[1:], shares[0])
    forms = [formulas.partial_formula(prim, i, texts, name, graph.values(op)) for i in positions]
    formula = " + ".join(forms) if all(f is not None for f in forms) else None
    elementwise = prim.partials is not None
    if ans.size == 1 and (mode == "reverse" or like.size == 1):
        kind, rule = "scalar", formula
        local = sum(partials(np.ones_like(ans if mode == "reverse" else like)))
    elif elementwise and like.shape == ans.shape:
        kind, local, rule = "elementwise", sum(partials(np.ones_like(ans))), formula
    else:
        kind, local, rule = ("vjp" if mode == "reverse" else "jvp"), None, None
        if mode == "reverse":
            vjps = [formulas.vjp_formula(prim, i, texts, bar(name), name, kw) for i in positions]
            if prim.name == "index_update" and len(vjps) == 1 and vjps[0] is not None and like.shape != ans.shape:
                if positions[0] == 1 and np.shape(ans[kw["index"].key]) != like.shape:  # v broadcast into t[i]
                    vjps[0] = f"sum({vjps[0]})" if like.shape == () else f"sum_to({vjps[0]}, {like.shape})"
            if all(v is not None for v in vjps):
                rule = " + ".join(vjps)
            elif formula is not None:  # elementwise, but broadcast: the shares are summed back to the shape
                body = bar(name) if formula == "1" else f"{bar(name)} ∘ {formula}"
                rule = f"sum_to({body}, {like.shape})"
    source = name if mode == "reverse" else parent
    return Term(source, f"∂{name}/∂{parent}", rule, kind, upstream, local, value, tuple(shares))


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
    the argument names taken from ``f``'s signature. Tensors that ``f`` uses without taking them as
    arguments (a Module's weights) are parameters, named as ``f`` sees them (``net.0.weight``). The
    derivatives come from the primitives' own rules, so they are exactly what ``backward`` computes.

    >>> import chainrule as cr
    >>> ex = cr.explain(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
    >>> [float(g.value) for g in ex.gradients]
    [-4.0, -4.0, 3.0]
    >>> print(ex.backward[2].expr)
    v̄5 · ∂v5/∂v3
    """
    if hasattr(f, "__chainrule_graph__"):  # an EDF graph (chainrule.edf): its forward pass as a function
        f, args, given = f.__chainrule_graph__()
        names = given if names is None else names
    if mode not in ("reverse", "forward"):
        raise ValueError(f"explain: mode must be 'reverse' or 'forward', got {mode!r}")
    if not callable(f):
        raise TypeError(f"explain: the first argument must be a function, got {type(f).__name__}")
    if not args:
        raise TypeError("explain: give the function's arguments after it, e.g. cr.explain(f, 2.0, 5.0)")
    labels = trace.input_names(f, len(args), names)
    wanted = _argnums(argnums, len(args))
    leaves, kinds = zip(*(trace.leaf(a, labels[i], i in wanted) for i, a in enumerate(args)))
    out, entries = trace.record(f, leaves)
    captured = list(trace.captured_names(f).values())
    letter, const, function = trace.letters(labels + captured, trace.function_name(f))
    graph = trace.build(f, leaves, kinds, labels, out, entries, letter, const, precision)
    ops = graph.ops
    values = {name: op.value for name, op in ops.items()}
    output = graph.names[out._node]
    needed = set()  # variables that depend on a differentiated input
    for name, op in ops.items():
        if op.kind in ("input", "parameter") or any(o in needed for o in op.operands):
            needed.add(name)
    if output not in needed:
        raise ValueError("explain: the output does not depend on any differentiated argument (see argnums=)")
    backward, gradients, tangent, tangents, terms = (), (), None, {}, {}
    if mode == "reverse":
        s = np.ones_like(out.data) if seed is None else _fit(seed, out.data, "seed")
        recorded = {e.node: e for e in entries if e.node is not None}
        backward, adjoints = _reverse(graph, needed, output, s, out._node, recorded)
        gradients = tuple(
            GradientRow(op.label, name, adjoints.get(name, np.zeros_like(op.value)))
            for name, op in ops.items()
            if op.kind in ("input", "parameter")
        )
    else:
        s = None
        tangents = _directions(direction, graph, labels, wanted)
        terms = _forward(graph, values, needed, tangents)
        tangent = tangents[output]
    forward = []
    for name, op in ops.items():
        if op.entry is None:
            expr, kind = op.label, op.kind
        else:
            prim, datas = op.entry[0], op.entry[1]
            shapes = [np.shape(d) if trace.is_value(d) else None for d in datas]
            expr = formulas.call_text(prim, graph.texts(op, bracket=False), op.entry[3], shapes, graph.values(op))
            kind = prim.name
        inputs = tuple(o for o in op.operands if o is not None)
        row = ForwardRow(name, op.kind, kind, expr, op.value, inputs, op.label, tangents.get(name), terms.get(name, ()))
        forward.append(row)
    return Explanation(
        mode, function, tuple(forward), tuple(backward), gradients, tuple(graph.constants),
        output, out.data, s, tangent, precision, letter, tuple(labels),
    )  # fmt: skip


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


def _reverse(graph, needed, output, seed, out_node, recorded):
    """Adjoints from the output back, v̄i = Σ over children j of v̄j · ∂vj/∂vi: the engine's reverse sweep, run on
    the values recorded, with each edge's contribution (summed back to its input's shape) kept for its term."""
    ops = graph.ops
    own = {op.entry[4]: name for name, op in ops.items() if op.entry is not None}  # not the same-shape reshapes
    leaves = {name: node for node, name in graph.names.items() if isinstance(node, Node) and node.prim is None}
    nodes = {**leaves, **{name: node for node, name in own.items()}}

    def saved(node):  # the values the rules run on: those recorded
        entry = recorded[node]
        return entry.args, entry.ans

    shares = {}  # (child, parent) -> {position: contribution}

    def on_edge(node, i, parent, g, contribution):
        child = own.get(node)
        if child is not None:  # an edge out of a same-shape reshape is no step: its child's term covers it
            shares.setdefault((child, graph.names[parent]), {})[i] = _array(contribution)

    found = sweep([(out_node, seed)], [nodes[name] for name in needed if name in nodes], retain_graph=True,
                  saved=saved, on_edge=on_edge)
    pending = {name: [] for name in ops}
    for name, op in ops.items():
        g = found.get(op.entry[4]) if op.entry is not None else None
        if g is None:  # an input, or not on the way to the output
            continue
        for parent in dict.fromkeys(op.operands):
            if parent not in needed:
                continue
            positions = [i for i, o in enumerate(op.operands) if o == parent]
            parts = _per_position(shares.get((name, parent), {}), positions, ops[parent].value)
            partials = functools.partial(_alone_partials, op.entry[4], saved, positions, ops[parent].value)
            pending[parent].append(_term("reverse", graph, op, parent, _array(g), parts, partials))
    order = {name: k for k, name in enumerate(ops)}
    adjoints, backward = {}, []
    for name in reversed(list(ops)):
        if name not in needed:
            continue
        if name == output:
            adj, terms = seed, ()
        else:
            terms = tuple(sorted(pending[name], key=lambda t: order[t.source]))
            if not terms:
                continue  # an argument the output does not use: its gradient is zero
            adj = _array(found[nodes[name]])
        adjoints[name] = adj
        backward.append(BackwardRow(name, adj, terms))
    return tuple(backward), adjoints


def _per_position(got, positions, like):
    """The shares ``got`` ({position: share}) in order; a rule that returned None gave its input nothing: zero."""
    return [got[i] if i in got else np.zeros_like(like) for i in positions]


def _alone_partials(node, saved, positions, like, u):
    return _per_position(_alone(node, saved, u), positions, like)


def _directions(direction, graph, labels, wanted):
    inputs = [op for op in graph.ops.values() if op.entry is None]
    argrows = inputs[: len(labels)]
    if direction is None:
        direction = min(wanted)
    if isinstance(direction, str):
        if direction not in labels:
            raise ValueError(f"explain: direction {direction!r} is not an argument name ({', '.join(labels)})")
        direction = labels.index(direction)
    tangents = {op.name: np.zeros_like(op.value) for op in inputs}
    if isinstance(direction, (int, np.integer)):
        if not -len(labels) <= direction < len(labels) or direction % len(labels) not in wanted:
            raise ValueError(f"explain: direction {direction} is not a differentiated argument")
        op = argrows[direction % len(labels)]
        tangents[op.name] = np.ones_like(op.value)
        return tangents
    direction = list(direction)
    if len(direction) != len(labels):
        raise ValueError(f"explain: direction has {len(direction)} tangents but there are {len(labels)} arguments")
    for k, (op, t) in enumerate(zip(argrows, direction)):
        if t is not None:
            if k not in wanted:
                raise ValueError(f"explain: argument {labels[k]!r} is data (not in argnums), so its tangent is 0")
            tangents[op.name] = _fit(t, op.value, f"the tangent of {labels[k]!r}")
    return tangents


def _forward(graph, values, needed, tangents):
    """Tangents from the inputs on: v̇j = Σ over parents i of ∂vj/∂vi · v̇i (dual numbers), each share by the
    engine's forward rules."""
    terms = {}
    for name, op in graph.ops.items():
        if op.entry is None:
            continue
        prim, datas, _, kw, _, ans = op.entry
        argv = [wrap(values[o]) if o in values else d for o, d in zip(op.operands, datas)]
        parts = []
        for p in dict.fromkeys(op.operands):
            if p not in needed:
                continue
            positions = [i for i, o in enumerate(op.operands) if o == p]
            partials = functools.partial(_tangents, prim, positions, ans, argv, kw)
            parts.append(_term("forward", graph, op, p, tangents[p], partials(tangents[p]), partials))
        terms[name] = tuple(parts)
        tangents[name] = sum((t.value for t in parts[1:]), parts[0].value) if parts else np.zeros_like(op.value)
    return terms
