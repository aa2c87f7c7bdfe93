"""Primitive and apply: run an operation's NumPy forward, record it, push tangents through it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .node import Node, next_sequence
from .state import STATE, remember_tangents
from .tangents import fused as _fused
from .tangents import output_tangent
from .tangents import push_tangents as _push_tangents
from .tensor import Tensor, wrap

__all__ = ["Application", "Primitive", "apply", "REGISTRY", "NONDIFFERENTIABLE", "is_tracing", "output_tangent",
           "tracing"]

# Every primitive by name, for coverage tests, error messages and the graph picture.
REGISTRY: dict[str, "Primitive"] = {}
# The one list of operations that have no derivative (comparisons, sign, argmax, ...).
NONDIFFERENTIABLE: dict[str, "Primitive"] = {}

_ndarray = np.ndarray
_asarray = np.asarray
# Turns a NumPy scalar result into an array, keeping an ndarray subclass (cr.jit's Traced) as it is.
_asanyarray = np.asanyarray
_new = object.__new__
_next_seq = next_sequence

# The active hooks of tracing(), in the order they were entered. Empty almost always,
# so apply's cost for them is one truth test per operation.
_HOOKS: list = []


class Application(NamedTuple):
    """One primitive application, as :func:`tracing` hands it to its hook.

    ``args`` are the operands' arrays (or the constants as given) and ``ans``
    the output array, taken at the call: the tape keeps only what the rules
    need, and ``t[i] = v`` later rebinds a Tensor's data and node. ``parents``
    has one Node (or None for a constant) per operand; ``node`` is the
    recorded Node, or None when nothing was recorded (no input requires grad).
    """

    prim: Primitive
    args: tuple
    parents: tuple
    kw: dict
    node: Node | None
    ans: np.ndarray


@contextmanager
def tracing(hook):
    """While the block runs, call ``hook(application)`` for every primitive applied, in any thread.

    This is how ``cr.explain``, ``cr.viz.record`` and the transforms see every
    intermediate value, whatever the primitives chose to save. Hooks nest:
    each active one sees every application. Non-differentiable primitives
    (comparisons, ``sign``, ...) are not reported.

    >>> import chainrule as cr
    >>> from chainrule.core.primitive import tracing
    >>> seen = []
    >>> with tracing(seen.append):
    ...     y = cr.exp(cr.tensor(1.0, requires_grad=True)) * 2
    >>> [(a.prim.name, a.node is not None) for a in seen]
    [('exp', True), ('multiply', True)]
    """
    _HOOKS.append(hook)
    try:
        yield hook
    finally:
        for k in range(len(_HOOKS) - 1, -1, -1):
            if _HOOKS[k] is hook:  # by identity: two hooks may compare equal (two empty lists)
                del _HOOKS[k]
                break


def is_tracing():
    """Whether some :func:`tracing` hook is active.

    >>> from chainrule.core.primitive import is_tracing
    >>> is_tracing()
    False
    """
    return bool(_HOOKS)


class Primitive:
    """One operation: its NumPy forward and its reverse and forward rules, side by side.

    ``impl(*arrays, **static)`` computes the value on ndarrays.

    ``vjp`` holds one reverse rule per positional input, each called as
    ``rule(g, ans, *args, **static)`` and returning the cotangent for that input
    (``None`` in the tuple marks an input with no derivative, e.g. a condition).
    For a variadic primitive (``concatenate``, ``einsum``) ``vjp`` is one callable
    ``rule(i, g, ans, *args, **static)``.

    ``jvp`` is either one forward rule per input, ``rule(t, ans, *args, **static)``,
    whose results are summed, or, with ``joint_jvp=True``, one callable
    ``rule(ts, ans, *args, **static)`` that sees every input's tangent at once
    (zeros where an input has none).

    Rules are written with chainrule operations, so they work on Tensors (and
    are themselves differentiable) and on bare ndarrays (the fast first-order
    backward pass). They may return a cotangent of the *output's* shape for a
    broadcast input: the engine sums it back (``sum_to``), once, for every rule.

    ``save`` names what the rules read, so nothing else is kept alive on the
    tape: any of ``"args"`` and ``"ans"``.

    ``fused_jvp`` (optional), ``fused_jvp(i, *arrays, t, **static)``, computes the
    value and the tangent for a tangent ``t`` on input ``i`` together, or returns
    None to decline; ``apply`` offers it the common case of one plain tangent on
    one operand (matmul uses it to read a large matrix once for ``W x`` and ``W v``).

    ``batch`` (optional), ``batch(prim, vals, batched, kw, size)``, is the batching rule
    (``cr.vmap``, ``jacfwd``, ``jacrev``): ``vals`` are the operands, those with
    ``batched[i]`` true as physical values whose axis 0 is the batch (of ``size``);
    it returns the physical result, batch axis first. The generic rules are in
    ``chainrule.core.batching_rules`` (``elementwise`` for broadcasting operations,
    ``axis_rule("axis")`` for static axes, ``leading``); without one, the primitive
    runs once per batch element (``fallback``), which is correct, only slower.

    What ``cr.explain`` and the graph pictures print (all optional, text only):

    - ``partials``: ∂out/∂input i for an elementwise primitive, one format string per
      input over the operands ``{0}``, ``{1}``, ... and the output ``{out}``
      (``("cos({0})",)``), or a callable ``partials(i, texts, out, values, number)``
      returning the text or None (``values[k]``: operand k's value where it is a
      constant; ``number(c)`` writes a constant as code).
      A primitive with ``partials`` is shown as elementwise.
    - ``vjp_formulas``: the vector-Jacobian product per input, over the operands,
      the cotangent ``{g}`` and ``{out}`` (``("{g} @ {1}ᵀ", "{0}ᵀ @ {g}")``; the last
      entry serves any further inputs), or a callable ``vjp_formulas(i, texts, g, out, kw, shape)``
      (``shape``: input ``i``'s shape where known, else None).
    - ``operator``: the symbol written between two operands (``"+"``, ``"@"``) or
      before one (``"-"``).
    - ``call_args``: ``call_args(kw, shapes)`` lists the public arguments of the
      call, ``[(keyword or None, value)]``, from the engine's keywords (``axes=(1,)``
      reads ``axis=1``); without it the plain keywords show as they are.
    - ``notation``: ``notation(operands, kw, values, call)`` writes the whole call in
      the user's syntax (``x[0]``, ``v1²``) or returns None for the usual form;
      ``operands`` are the operands' texts, None for one a picture draws as an edge,
      and ``call(texts, head=None)`` writes the usual ``name(texts..., arguments)``
      (``concatenate([a, b])``).
    - ``no_op``: ``no_op(ans, *args, **kw)`` is True where an application leaves its
      input as it was (a reshape to the same shape): explanations show it as no step.

    ``convention`` (optional) states the documented choice the rules make where
    the derivative is not unique (a tie, a kink): ``maximum``'s "ties split the
    gradient evenly", ``relu``'s "relu'(0) = 0".

    ``array_args`` (the elementwise shorthands set it): every positional argument is an
    array, so ``apply`` makes a list or tuple operand (``maximum(x, [0, 0])``) an ndarray
    once, before any rule sees it; otherwise positional tuples stay (shapes, axes).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.extend import Primitive
    >>> cube = Primitive("cube", lambda x: x ** 3,
    ...                  vjp=(lambda g, ans, x: g * 3 * x ** 2,),
    ...                  jvp=(lambda t, ans, x: t * 3 * x ** 2,), save=("args",))
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> cube(x).backward()
    >>> x.grad.item()
    12.0
    """

    __slots__ = ("name", "impl", "vjp", "jvp", "joint_jvp", "variadic", "save_args", "save_ans",
                 "raw_ok", "nondiff", "batch", "doc", "vjp_table", "fused_jvp", "partials", "vjp_formulas",
                 "operator", "call_args", "notation", "convention", "no_op", "array_args")

    def __init__(self, name, impl, vjp=None, jvp=None, *, save=("args", "ans"), joint_jvp=False,
                 variadic=False, raw_ok=True, nondiff=False, register=True, fused_jvp=None, batch=None,
                 partials=None, vjp_formulas=None, operator=None, call_args=None, notation=None,
                 convention=None, no_op=None, array_args=False):
        self.name = name
        self.impl = impl
        self.vjp = vjp
        # The backward sweep's lookup: one rule (or None) per input; empty for variadic rules.
        self.vjp_table = tuple(vjp) if vjp is not None and not variadic else ()
        self.jvp = jvp
        self.joint_jvp = joint_jvp
        self.variadic = variadic
        self.save_args = "args" in save
        self.save_ans = "ans" in save
        self.raw_ok = raw_ok
        self.nondiff = nondiff
        self.batch = batch
        self.fused_jvp = fused_jvp
        self.partials = partials
        self.vjp_formulas = vjp_formulas
        self.operator = operator
        self.call_args = call_args
        self.notation = notation
        self.convention = convention
        self.no_op = no_op
        self.array_args = array_args
        if register:
            if name in REGISTRY:
                raise ValueError(f"primitive {name!r} is declared twice")
            REGISTRY[name] = self
            if nondiff:
                NONDIFFERENTIABLE[name] = self

    def __call__(self, *args, **kw):
        if STATE.raw:  # a first-order backward pass: rules run on ndarrays, skip apply's bookkeeping
            for a in args:  # _on_arrays, inlined: a rule's every call comes here
                if isinstance(a, Tensor):
                    break
            else:
                ans = self.impl(*args, **kw) if kw else self.impl(*args)
                return ans if type(ans) is _ndarray else _asanyarray(ans)
        return apply(self, args, kw)

    def vjp_rule(self, i):
        """The reverse rule for input ``i``, or an error naming the primitive and input."""
        vjp = self.vjp
        if self.variadic and vjp is not None:
            return lambda g, ans, *args, **kw: vjp(i, g, ans, *args, **kw)
        rule = vjp[i] if vjp is not None and i < len(vjp) else None
        if rule is None:
            raise NotImplementedError(
                f"no reverse-mode (vjp) rule for input {i} of primitive {self.name!r}: "
                f"this input is not differentiable; pass it as a constant (detach it)"
            )
        return rule

    def __repr__(self):
        return f"<Primitive {self.name}>"


def _on_arrays(prim, args, kw):
    """In a first-order backward pass (``STATE.raw``), ``prim`` on bare ndarrays at NumPy speed;
    NotImplemented when an operand is a Tensor (then ``apply`` records as usual)."""
    for a in args:
        if isinstance(a, Tensor):
            return NotImplemented
    ans = prim.impl(*args, **kw)
    return ans if type(ans) is _ndarray else _asanyarray(ans)


_SEQUENCES = (list, tuple)


def _arrays(prim, args):
    """``args`` with list and tuple operands made ndarrays, for a primitive whose operands are all arrays."""
    for a in args:
        if type(a) in _SEQUENCES:
            from .shapes import sequences_as_arrays  # shapes declares its primitives with this module

            return sequences_as_arrays(prim, args)
    return args


def _first_batched(prim, args, kw):
    """``batching.apply_batched``, imported on the first batched operation (batching.py imports this module);
    it then takes this function's place, so later operations pay no import."""
    global _apply_batched
    from .batching import apply_batched

    _apply_batched = apply_batched
    return apply_batched(prim, args, kw)


_apply_batched = _first_batched


def apply(prim, args, kw):
    """Apply ``prim`` to ``args``: compute, record a Node if needed, propagate tangents.

    This is the per-operation cost users feel, so the one- and two-operand
    cases (nearly every call) avoid building intermediate lists.
    """
    state = STATE
    if state.plain:  # recording, no raw backward pass, no vmap: one thread-local read
        grad = True
    else:
        raw = state.raw
        if raw:
            ans = _on_arrays(prim, args, kw)
            if ans is not NotImplemented:
                return ans
        vmap = state.vmap
        if vmap:
            # cr.vmap / batched jacobians (core/batching.py): an operand batched at a live
            # vmap level goes through the primitive's batching rule instead.
            if prim.array_args:
                args = _arrays(prim, args)
            out = _apply_batched(prim, args, kw)
            if out is not NotImplemented:
                return out
        # not plain, neither raw nor vmap: then recording is off (no_grad), one thread-local read fewer
        grad = (raw or vmap) and state.grad
    n = len(args)
    if n == 2:
        a, b = args
        if isinstance(a, Tensor):
            da, na, fa = a.data, a._node, a._fw
        else:
            if type(a) in _SEQUENCES and prim.array_args:
                args = _arrays(prim, args)
                a, b = args
            da, na, fa = a, None, None
        if isinstance(b, Tensor):
            db, nb, fb = b.data, b._node, b._fw
        else:
            if type(b) in _SEQUENCES and prim.array_args:
                args = _arrays(prim, args)
                b = args[1]
            db, nb, fb = b, None, None
        datas = (da, db)
        flows = na is not None or nb is not None
        has_fw = fa is not None or fb is not None
        parents = (na, nb)
    elif n == 1:
        a = args[0]
        if isinstance(a, Tensor):
            datas, na, has_fw = (a.data,), a._node, a._fw is not None
        else:
            datas, na, has_fw = (a,), None, False
        flows = na is not None
        parents = (na,)
    else:
        if prim.array_args:
            args = _arrays(prim, args)
        datas = tuple([a.data if isinstance(a, Tensor) else a for a in args])
        parents = tuple([a._node if isinstance(a, Tensor) else None for a in args])
        flows = any(p is not None for p in parents)
        has_fw = any(isinstance(a, Tensor) and a._fw is not None for a in args)
    fused = _fused(prim, args, datas, kw) if has_fw and prim.fused_jvp is not None and not _HOOKS else None
    if fused is not None:
        ans, fused = fused
    else:
        try:
            ans = prim.impl(*datas, **kw) if kw else prim.impl(*datas)
        except (ValueError, TypeError, IndexError) as e:
            raise _user_error(prim, datas, e) from None
    if type(ans) is not _ndarray:
        ans = _asanyarray(ans)
    if prim.nondiff:
        return wrap(ans)
    # wrap(ans, node) and new_node(...), written out: one call each per operation is a tenth of the tape's cost
    out = _new(Tensor)
    out.data = ans
    out._fw = out._grad = None
    if flows and grad:
        # Save the arrays, not the argument Tensors: `t[i] = v` rebinds a Tensor
        # object, and a value saved here must stay the value that was used.
        node = out._node = _new(Node)
        node.prim = prim
        node.parents = parents
        node.args = datas if prim.save_args else None
        node.kw = kw
        node.ans = ans if prim.save_ans else None
        node.shape = ans.shape
        node.dtype = ans.dtype
        node.out_fw = node.arg_fw = node.leaf = None
        node.freed = False
        node.seq = _next_seq()
        if has_fw and prim.save_args:
            node.arg_fw = tuple([a._fw if isinstance(a, Tensor) else None for a in args])
    else:
        node = out._node = None
    if _HOOKS:
        application = Application(prim, datas, parents, kw, node, ans)
        for hook in tuple(_HOOKS):
            hook(application)
    if has_fw:
        if fused is not None:
            out._fw = fused
            if node is not None and prim.save_ans:
                node.out_fw = fused
        else:
            _push_tangents(prim, args, kw, out, node, not _HOOKS)  # a hook sees the rules' applications
        if node is not None and (node.out_fw is not None or node.arg_fw is not None):
            remember_tangents(node)  # dropped when their levels close: see state.close_level
    return out


def _user_error(prim, datas, err):
    """Re-raise a NumPy failure at the user's call, naming the operation and every input's shape.

    The error keeps its type where that type can be made from a message alone (``AxisError``
    can); NumPy types that need more (``_UFuncNoLoopError(ufunc, dtypes)``, ``UFuncTypeError``)
    become the nearest builtin base class (``TypeError``, ``ValueError``, ``IndexError``).
    """
    msg = str(err)
    if msg.startswith(prim.name + ":"):
        return err
    shapes = ", ".join(str(np.shape(d)) if isinstance(d, (_ndarray, np.generic)) else type(d).__name__ for d in datas)
    text = f"{prim.name}: {msg} (input shapes: {shapes})"
    for cls in type(err).__mro__:
        if cls.__module__ != "builtins" and cls is not type(err):
            continue
        try:
            new = cls(text)
        except Exception:  # noqa: BLE001 - a constructor with other required arguments
            continue
        if str(new) == text:
            return new
    return TypeError(text)
