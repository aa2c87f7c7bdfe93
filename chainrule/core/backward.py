"""The reverse sweep: visit nodes in reverse topological order and accumulate adjoints."""

from __future__ import annotations

import threading
from operator import attrgetter

import numpy as np

from .complex_parts import real
from .anomaly import ANOMALY, check_finite
from .hooks import POST_ACCUMULATE, TENSOR_HOOKS, run_post_accumulate, run_tensor_hooks
from .shapes import _sum_to, astype, sum_to
from .state import STATE, live_tangents, raw_mode, set_grad_enabled
from .tensor import Tensor, wrap
from .writes import WRITES, check_saved

__all__ = ["backward", "check_seed_dtype", "grad_of", "sweep", "toposort"]

FREED = (
    "Trying to backward through the graph a second time: its saved values were freed by the first "
    "backward pass. Pass retain_graph=True to the first .backward() (or cr.grad) if you need to go "
    "through the same graph twice."
)


def toposort(roots):
    """Nodes reachable from ``roots``, every node after all of its parents.

    Creation order is topological (a node is made after its inputs), so this
    is a plain walk to collect the nodes, then a sort by sequence number:
    no recursion, so a chain of any depth is fine. The walk finds a chain's
    nodes newest first, a run the sort reverses in linear time.
    """
    seen = set(roots)
    found = list(seen)
    seen.add(None)  # a constant's place among the parents: one test per parent, not two
    add, append = seen.add, found.append
    for node in found:  # the list is its own work queue: the loop reaches what is appended as it goes
        for p in node.parents:
            if p not in seen:
                add(p)
                append(p)
    found.sort(key=_by_sequence)
    return found


_by_sequence = attrgetter("seq")
_NONES = ((), (None,), (None, None), (None, None, None))  # the arguments of a node that saved none


def _root_base(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return id(a)


def sweep(roots, targets=None, *, accumulate=False, retain_graph=False, create_graph=False, saved=None,
          on_edge=None, order=None):
    """The reverse sweep: run each node's reverse rules from ``roots`` [(node, cotangent)] back to the leaves.

    Every edge adds its contribution x̄ += z̄ · ∂z/∂x, summed back to the input's shape and cast to its
    dtype here, once, for every rule (``sum_to``); gradients add where a value is used twice.
    ``backward``, ``cr.autograd.grad``, the transforms, ``cr.explain`` and the graph pictures all run
    this one sweep.

    - ``targets`` (nodes): return ``{node: adjoint}`` for them (None where nothing reached one); only
      the part of the graph that leads to them is visited.
    - ``accumulate``: add the leaves' adjoints into their Tensors' ``.grad``.
    - ``retain_graph``: keep what the nodes saved (else it is freed as the sweep passes).
    - ``create_graph``: record the sweep itself, so its results can be differentiated again.
    - ``saved(node)``: the values to run ``node``'s rules with, ``(args, ans)`` (arrays; None for values
      its rules do not read), instead of what the node saved; or None to stop at the node (nothing flows
      back through it). For callers that hold the values themselves (recorded by :func:`tracing`): the
      tape is then neither read nor freed.
    - ``on_edge(node, i, parent, g, contribution)``: called for each edge the sweep follows, with the
      node's adjoint ``g`` and what flows to its input ``i`` (node ``parent``), before it is added.
    - ``order``: ``toposort`` of the roots' nodes, where the caller has already walked the graph.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.core.backward import sweep
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * 3.0).sum()
    >>> edges = []
    >>> found = sweep([(y._node, np.array(1.0))], [x._node], on_edge=lambda n, i, p, g, c: edges.append((n.name, c)))
    >>> edges
    [('sum', array([1., 1.])), ('multiply', array([3., 3.]))]
    >>> found[x._node]
    array([3., 3.])
    """
    if order is None:
        order = toposort([n for n, _ in roots])
    needed = None
    want = None
    through = None
    if targets is not None:
        want = {n: None for n in targets}
        needed = set()  # the nodes that lead to a target (the targets among them)
        through = set()  # those with a parent that leads to a target: the sweep runs their rules
        add_needed, add_through, disjoint = needed.add, through.add, needed.isdisjoint
        for n in order:  # parents come first, so one pass decides reachability
            if not disjoint(n.parents):  # (None is never in needed)
                add_through(n)
                add_needed(n)
            elif n in want:
                add_needed(n)
    # A first-order pass with no forward level live computes on bare ndarrays.
    raw = not create_graph and STATE.depth == 0
    # jacrev's batched basis cotangents: with only batching levels open and cotangents that record nothing,
    # the rules run on the saved ndarrays too; the cotangents stay batched Tensors (their batching rules run)
    batched = not raw and not create_graph and targets is not None and not accumulate and \
        STATE.depth == STATE.vmap and saved is None and not TENSOR_HOOKS and not ANOMALY.on and \
        all(_records_nothing(g) for _, g in roots)
    if batched:
        raw = True
        roots = [(n, g.data if isinstance(g, Tensor) and type(g.data) is np.ndarray else g) for n, g in roots]
    release = not retain_graph and saved is None
    grads = {}
    # The nodes whose adjoint is a buffer this pass allocated by adding two contributions: safe to add into in
    # place. Keyed by node, not by the buffer's id: an entry is replaced only here, so nothing goes stale when the
    # buffer moves on (a pass-through rule hands it to the parents) and an id is reused.
    owned = set()
    for node, g in roots:
        _accumulate(grads, owned, node, g, raw)
    leaf_seen = set()
    ndarray = np.ndarray
    writes = WRITES
    targeted = want is not None
    early = _early_leaves(order) if accumulate and POST_ACCUMULATE and not targeted else None
    hooked = TENSOR_HOOKS if TENSOR_HOOKS else None
    if ANOMALY.on:  # detect_anomaly: every contribution is checked, through the per-edge callback
        on_edge = _checking(on_edge)
    with raw_mode(True) if raw else set_grad_enabled(bool(create_graph)):
        for node in reversed(order):
            g = grads.pop(node, None)
            if g is None:
                continue
            if hooked is not None and node in hooked:
                g = run_tensor_hooks(node, g, wrap)
            prim = node.prim
            parents = node.parents
            if targeted:
                if node in want:
                    want[node] = g
                if prim is not None and node not in through:
                    continue
            if prim is None:
                if accumulate:
                    _to_leaf(node, g, raw, leaf_seen)
                continue
            tensors = not (raw and prim.raw_ok)
            if saved is None:
                if node.freed:
                    raise RuntimeError(FREED)
                if writes:
                    check_saved(node)  # only after some array was written in place (core/writes.py)
                if tensors:
                    args = node.saved_args()
                    ans = None if node.ans is None else wrap(node.ans, node, live_tangents(node.out_fw))
                else:
                    args = node.args
                    if args is None:
                        args = _NONES[len(parents)] if len(parents) < 4 else (None,) * len(parents)
                    ans = node.ans
            else:
                args = saved(node)
                if args is None:
                    continue
                args, ans = args
                if tensors:  # the caller's values are constants to this sweep
                    args = tuple([a if p is None or a is None else wrap(a) for a, p in zip(args, parents)])
                    ans = None if ans is None else wrap(ans)
            gg = g if not tensors or isinstance(g, Tensor) else wrap(g)
            kw = node.kw
            # the call's arity, spelled out where it is one or two: a call with *args is a C-level call,
            # one with its arguments written out runs the rule in the same interpreter loop (CPython 3.11+)
            arity = 0 if kw else len(args)
            table = prim.vjp_table
            i = -1
            for p in parents:
                i += 1
                if p is None or (targeted and p not in needed):
                    continue
                try:
                    rule = table[i]
                except IndexError:  # variadic: no table
                    rule = None
                if rule is None:
                    rule = prim.vjp_rule(i)  # a variadic rule, or an error naming the input
                if arity == 1:
                    gp = rule(gg, ans, args[0])
                elif arity == 2:
                    gp = rule(gg, ans, args[0], args[1])
                else:
                    gp = rule(gg, ans, *args, **kw) if kw else rule(gg, ans, *args)
                if gp is None:
                    continue
                if raw:
                    if tensors and isinstance(gp, Tensor) and not batched:
                        gp = gp.data
                    if type(gp) is not ndarray and not (batched and isinstance(gp, Tensor)):
                        gp = np.asarray(gp)  # NumPy returns scalars from 0-d arithmetic
                dtype = gp.dtype
                if dtype is not p.dtype and dtype != p.dtype or gp.shape != p.shape:
                    gp = _conform(gp, p, prim, i, raw)
                if on_edge is not None:
                    on_edge(node, i, p, g, gp)
                prev = grads.get(p)
                if prev is None:
                    grads[p] = gp
                elif not raw or batched and (type(prev) is not ndarray or type(gp) is not ndarray):
                    grads[p] = prev + gp
                    if batched:
                        owned.discard(p)  # a batched sum is a Tensor: never written in place
                elif p in owned:
                    np.add(prev, gp, out=prev)
                else:
                    grads[p] = np.asarray(prev + gp)
                    owned.add(p)
            if release:  # the one place a node's saved values are freed: nothing reads them after its rules
                node.args = node.ans = node.out_fw = node.arg_fw = None
                node.freed = True
            if early is not None and node in early:
                for leaf in early[node]:
                    g = grads.pop(leaf, None)
                    if g is not None:
                        _to_leaf(leaf, g, raw, leaf_seen)
    return want


def _checking(on_edge):
    def check(node, i, parent, g, gp):
        check_finite(node, i, gp)
        if on_edge is not None:
            on_edge(node, i, parent, g, gp)

    return check


def _early_leaves(order):
    """{node: [hooked leaves whose last consumer it is]}: their gradients are complete once it has run.

    A leaf (a parameter) comes first in creation order, so the sweep would reach it, and run its
    post-accumulate hooks, only at the very end; data-parallel training needs each gradient as soon as
    it is final, to reduce it while backward goes on. A leaf's gradient is final after its consumer
    created first (visited last), so it is delivered right then. Only for leaves with hooks.
    """
    last = {}
    for n in order:  # creation order: the first consumer met is the one the sweep visits last
        for p in n.parents:
            if p is not None and p.prim is None and p not in last and p in POST_ACCUMULATE:
                last[p] = n
    early = {}
    for leaf, n in last.items():
        early.setdefault(n, []).append(leaf)
    return early


def _conform(g, node, prim, i, raw=False):
    """Undo broadcasting (sum_to) and keep the input's dtype: done once here, for every rule."""
    shape = g.shape
    if shape != node.shape:
        try:
            # on the first-order pass sum_to of an array is its NumPy function: called directly (a bias, every step)
            g = _sum_to(g, node.shape) if raw and type(g) is np.ndarray else sum_to(g, node.shape)
        except ValueError:
            where = f"the rule for input {i} of {prim.name!r}" if prim is not None else "the output gradient"
            raise ValueError(
                f"backward: {where} returned shape {shape}, which does not reduce to the input's shape "
                f"{node.shape}"
            ) from None
    if g.dtype != node.dtype:
        if g.dtype.kind == "c" and node.dtype.kind != "c":
            g = real(g)  # a real value's cotangent is the real part (PyTorch's convention), never a warning
        if g.dtype != node.dtype:
            g = astype(g, node.dtype)
    return g


def _records_nothing(g):
    """Whether a root cotangent is off every graph and carries no tangent: an array, a plain Tensor, or a value
    batched over one (jacrev's basis), so a sweep from it may run its rules on bare arrays."""
    if not isinstance(g, Tensor):
        return True
    while g._node is None and g._fw is None:
        if type(g.data) is np.ndarray:
            return True
        g = getattr(g, "val", None)  # a batched value (core/batching.py): look at what it holds
        if g is None:
            return False
    return False


def _accumulate(grads, owned, node, g, raw):
    """Add a root's cotangent into the table (roots may repeat)."""
    if raw and type(g) is not np.ndarray and not (isinstance(g, Tensor) and type(g.data) is not np.ndarray):
        g = np.asarray(g)  # (a batched cotangent stays a Tensor: see sweep's ``batched``)
    if g.shape != node.shape or g.dtype != node.dtype:
        g = _conform(g, node, None, None)
    prev = grads.get(node)
    grads[node] = g if prev is None else prev + g


_LEAF_LOCK = threading.RLock()  # re-entrant: a create_graph addition may record while it is held


def _to_leaf(node, g, raw, leaf_seen):
    leaf = node.leaf()
    if leaf is None:
        return
    data = leaf.data
    if g.dtype != data.dtype or g.shape != data.shape:
        g = _rebound(leaf, node, g, data)
    if raw:
        # Two leaves may receive the same array (add passes g through): copy so an
        # in-place update of one .grad can never change another.
        base = _root_base(g)
        if base in leaf_seen or not g.flags.writeable:
            g = g.copy()
        leaf_seen.add(_root_base(g))
        g = wrap(g)
    # Threads running backward into shared parameters: the read-add-write of .grad must be one step,
    # or an update is lost (PyTorch documents that race; here it does not exist). One lock per leaf
    # reached, not per operation, so the tape's cost is unchanged.
    with _LEAF_LOCK:
        if leaf._grad is None:
            leaf._grad = g
        else:
            leaf._grad = leaf._grad + g
    if POST_ACCUMULATE:  # some leaf has a hook (core/hooks.py): outside the lock, a hook may run backward
        run_post_accumulate(node, leaf)


def _rebound(leaf, node, g, data):
    """The gradient of a leaf whose ``.data`` was rebound after its node was made (``w.data = w.data.astype(...)``):
    the node still has the old dtype and shape. Another dtype: the gradient takes the array's (dtypes are
    preserved). Another shape: the contributions were summed to the old one, so no gradient is right: refuse."""
    if g.shape != data.shape:
        raise RuntimeError(
            f"backward: a leaf Tensor's .data was rebound to shape {data.shape} after the Tensor was made with "
            f"shape {node.shape}, so its gradient cannot be formed; make a new Tensor instead "
            f"(cr.tensor(new_array, requires_grad=True)) or keep the shape")
    return astype(g, data.dtype) if isinstance(g, Tensor) else g.astype(data.dtype)


def check_seed_dtype(g, out, who):
    """A complex cotangent for a real output is an error: casting it would drop its imaginary part."""
    if g is None:
        return
    dtype = getattr(g, "dtype", None)
    if dtype is None:
        dtype = np.asarray(g).dtype
    if dtype.kind == "c" and out.dtype.kind != "c":
        raise TypeError(
            f"{who}: a complex grad (dtype {dtype}) for a real output (dtype {out.dtype}); the gradient of a "
            f"real value is real: pass its real part, or make the output complex"
        )


def _seed(t, grad, create_graph, who):
    if grad is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implied only for a scalar output, but this Tensor has shape {t.shape}; "
                f"pass grad= of that shape (e.g. cr.ones_like(y)) or reduce it first (y.sum())"
            )
        if t.data.dtype.kind == "c":  # as PyTorch: which real function of it is meant? Re, Im, |·|?
            raise RuntimeError(
                f"{who}: grad can be implied only for a real scalar output, but this one is {t.data.dtype}; "
                f"take a real function of it first (cr.real(y), cr.abs(y)) or pass grad="
            )
        g = np.ones_like(t.data)
    else:
        g = grad.data if isinstance(grad, Tensor) and not create_graph else grad
        check_seed_dtype(g, t, who)
        if isinstance(g, Tensor):
            if g.shape != t.shape:
                raise ValueError(f"{who}: grad has shape {g.shape} but the output has shape {t.shape}")
            return g
        g = np.array(g, dtype=t.data.dtype)  # a copy: the caller's array is never aliased by .grad
        if g.shape != t.shape:
            raise ValueError(f"{who}: grad has shape {g.shape} but the output has shape {t.shape}")
    return wrap(g) if create_graph or STATE.depth else g


def backward(t, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(t)/d(leaf) into every leaf's ``.grad`` (PyTorch semantics)."""
    node = t._node
    if node is None:
        raise RuntimeError(
            "backward: this Tensor does not require grad and has no graph; create the inputs with "
            "requires_grad=True (and not under cr.no_grad()) before computing it"
        )
    g = _seed(t, grad, create_graph, "backward")
    sweep([(node, g)], accumulate=True, retain_graph=retain_graph, create_graph=create_graph)


def grad_of(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    Like ``torch.autograd.grad``: only the part of the graph between them is
    visited, and ``.grad`` attributes are left alone.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (gx,) = cr.autograd.grad(x ** 3, [x])
    >>> gx.item()
    27.0
    """
    if isinstance(outputs, Tensor):
        outputs = [outputs]
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots = []
    for out, go in zip(outputs, grad_outputs):
        if out._node is None:
            continue
        roots.append((out._node, _seed(out, go, create_graph, "grad")))
    targets = []
    for x in inputs:
        if x._node is None:
            raise RuntimeError(
                "grad: one of the inputs does not require grad, so no gradient can flow to it; "
                "create it with requires_grad=True"
            )
        targets.append(x._node)
    found = sweep(roots, targets, retain_graph=retain_graph, create_graph=create_graph) if roots else {}
    result = []
    for node in targets:
        g = found.get(node) if found else None
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "grad: one of the inputs was not used to compute the outputs; pass allow_unused=True "
                    "to get None for it"
                )
            result.append(None)
            continue
        result.append(g if isinstance(g, Tensor) else wrap(g))
    return tuple(result)
