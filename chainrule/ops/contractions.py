"""Index contractions: tensordot and einsum, whose reverse rules contract the cotangent back (the swap rule)."""

from __future__ import annotations

import functools
import math
import operator
import string

import numpy as np

from ..core.batching_rules import fallback, ndim_of, shape_of, shift
from ..core.complex_parts import conj_of
from ..core.primitive import Primitive, apply
from ..core.shapes import broadcast_to as _broadcast_to
from ..core.tensor import Tensor

__all__ = ["tensordot", "einsum"]

_LETTERS = string.ascii_letters  # the index names np.einsum accepts
_SUBLIST_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # NumPy names sublist integer k so
_GREEDY_ABOVE = 50_000  # iteration-space size above which a BLAS contraction path beats plain np.einsum


# shared with products.py and linalg.py
def _arr(x):
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x)


# ---- tensordot --------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _tensordot_subscripts(nda, ndb, axes):
    """einsum names of a's, b's and the output's axes (contracted pairs share a letter)."""
    la = _LETTERS[:nda]
    lb = list(_LETTERS[nda:nda + ndb])
    for ia, ib in zip(*axes):
        lb[ib] = la[ia]
    out = [c for k, c in enumerate(la) if k not in axes[0]] + [c for k, c in enumerate(lb) if k not in axes[1]]
    return la, "".join(lb), "".join(out)


def _tensordot_vjp(which):
    def rule(g, ans, a, b, axes):
        la, lb, out = _tensordot_subscripts(a.ndim, b.ndim, axes)
        a, b = conj_of(a), conj_of(b)  # complex operands: PyTorch's convention, as matmul's
        if which == 0:
            return einsum_p(g, b, subscripts=f"{out},{lb}->{la}")  # ā = ḡ contracted with b over b's free axes
        return einsum_p(g, a, subscripts=f"{out},{la}->{lb}")  # b̄ = ḡ contracted with a over a's free axes

    return rule


def _fresh_letter(subscripts):
    """An index letter the subscripts do not use (the batch axis's), or None when all are taken."""
    for c in _LETTERS:
        if c not in subscripts:
            return c
    return None


def _tensordot_batch(prim, vals, bat, kw, size):
    a, b = vals
    xa, xb = kw["axes"]
    if bat[0] and not bat[1]:  # a's free axes come first in the result: the batch axis stays in front
        return apply(prim, vals, dict(kw, axes=(shift(tuple(xa)), tuple(xb))))
    nda, ndb = ndim_of(a) - bat[0], ndim_of(b) - bat[1]
    la, lb, out = _tensordot_subscripts(nda, ndb, (tuple(xa), tuple(xb)))
    z = _fresh_letter(la + lb)
    la = z + la if bat[0] else la
    return einsum_p(a, b, subscripts=f"{la},{z}{lb}->{z}{out}")


tensordot_p = Primitive(
    "tensordot",
    lambda a, b, axes: np.tensordot(a, b, axes=axes),
    vjp=(_tensordot_vjp(0), _tensordot_vjp(1)),
    jvp=(lambda t, ans, a, b, axes: tensordot_p(t, b, axes=axes),
         lambda t, ans, a, b, axes: tensordot_p(a, t, axes=axes)),  # bilinear
    save=("args",),
    batch=_tensordot_batch,
)


def tensordot(a, b, axes=2):
    """``np.tensordot``: contract the last ``axes`` axes of a with the first of b, or the listed pairs.

    >>> import chainrule as cr
    >>> cr.tensordot(cr.ones((2, 3)), cr.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    a, b = _arr(a), _arr(b)

    def bad(why):
        return ValueError(f"tensordot: axes={axes!r} do not fit shapes {a.shape} and {b.shape}: {why}")

    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise bad(f"cannot contract {n} axes")
        xa, xb = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
    else:
        try:
            xa, xb = ((x,) if isinstance(x, (int, np.integer)) else tuple(x) for x in axes)
        except (TypeError, ValueError):
            raise bad("expected an int or a pair of axis sequences") from None
        if len(xa) != len(xb):
            raise bad("the two axis lists differ in length")
        if not all(-a.ndim <= k < a.ndim for k in xa) or not all(-b.ndim <= k < b.ndim for k in xb):
            raise bad("an axis is out of range")
        xa, xb = tuple(int(k) % a.ndim for k in xa), tuple(int(k) % b.ndim for k in xb)
        if len(set(xa)) < len(xa) or len(set(xb)) < len(xb):
            raise bad("an axis is repeated")
    for ia, ib in zip(xa, xb):
        if a.shape[ia] != b.shape[ib]:
            raise bad(f"axis {ia} of the first has size {a.shape[ia]} but axis {ib} of the second {b.shape[ib]}")
    return tensordot_p(a, b, axes=(xa, xb))


# ---- einsum -----------------------------------------------------------------------
def _shapes_text(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


@functools.lru_cache(maxsize=1024)
def _einsum_plan(subscripts, shapes):
    """Explicit, letters-only subscripts for these shapes (ellipses named, implicit output spelled out),
    and for each operand the shape it must be broadcast to first (None when it fits as it is)."""

    def bad(why):
        return ValueError(f"einsum: {why} (subscripts {subscripts!r}, operand shapes {_shapes_text(shapes)})")

    s = subscripts.replace(" ", "")
    lhs, arrow, out = s.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise bad(f"{len(terms)} operand subscript(s) for {len(shapes)} operand(s)")
    for t in terms + [out]:
        body = t.replace("...", "", 1)
        if any(c not in _LETTERS for c in body):
            raise bad(f"invalid subscript {t!r}: use letters a-z, A-Z and at most one '...'")
    used = set(s) - set(",.->")
    ells = []
    for t, shape in zip(terms, shapes):
        n = len(t.replace("...", ""))
        e = len(shape) - n
        if e < 0 or (e and "..." not in t):
            raise bad(f"subscript {t!r} has {n} indices but the operand has {len(shape)} dimensions")
        ells.append(e)
    free = [c for c in _LETTERS if c not in used]
    ndim_e = max(ells, default=0)
    if ndim_e > len(free):
        raise bad("too many dimensions under '...'")
    ell = "".join(free[:ndim_e])
    terms = [t.replace("...", ell[ndim_e - e:]) for t, e in zip(terms, ells)]
    if arrow:
        if len(set(out.replace("...", ""))) < len(out.replace("...", "")):
            raise bad(f"output subscript {out!r} repeats an index")
        out = out.replace("...", ell)
        missing = set(out) - set("".join(terms))
        if missing:
            raise bad(f"output index {sorted(missing)[0]!r} appears in no operand")
    else:  # implicit mode: broadcast axes, then the indices used once, in alphabetical order
        joined = "".join(c for t in terms for c in t if c not in ell)
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    size = {}
    for t, shape in zip(terms, shapes):
        for c, n in zip(t, shape):
            if t.count(c) > 1 and n != shape[t.index(c)]:
                raise bad(f"index {c!r} repeats within one operand with sizes {shape[t.index(c)]} and {n}")
            if size.get(c, 1) not in (1, n) and n != 1:
                raise bad(f"index {c!r} has sizes {size[c]} and {n}, which do not broadcast")
            size[c] = max(size.get(c, 1), n)
    targets = tuple(None if all(size[c] == n for c, n in zip(t, shape)) else tuple(size[c] for c in t)
                    for t, shape in zip(terms, shapes))
    return ",".join(terms) + "->" + out, targets


@functools.lru_cache(maxsize=1024)
def _parse(subscripts):
    """(operand subscripts, output subscripts, whether an index is summed across two or more operands)."""
    lhs, _, out = subscripts.partition("->")
    ins = tuple(lhs.split(","))
    contracts = any(c not in out and sum(c in t for t in ins) > 1 for c in set(lhs) - {","})
    return ins, out, contracts


def _einsum(*operands, subscripts):
    ins, out, contracts = _parse(subscripts)
    optimize = False
    if len(operands) > 1 and contracts:
        size = {c: n for t, op in zip(ins, operands) for c, n in zip(t, op.shape)}
        if math.prod(size.values()) > _GREEDY_ABOVE:
            optimize = "greedy"  # pairwise BLAS contractions: measured 3-1000x faster for large sizes
    return np.einsum(subscripts, *operands, optimize=optimize)


@functools.lru_cache(maxsize=1024)
def _einsum_grad_plan(subscripts, i):
    """The swap rule for operand i: einsum(out, other operands -> s_i), with
    an identity factor for each repeated index of s_i (its diagonal embedding)
    and the positions of indices of s_i that nothing else carries."""
    ins, out, _ = _parse(subscripts)
    s = ins[i]
    fresh = iter(c for c in _LETTERS if c not in subscripts)
    target, eyes, first = [], [], {}
    for pos, c in enumerate(s):
        if c in first:
            z = next(fresh, None)
            if z is None:
                raise ValueError(f"einsum: no index letters left to differentiate {subscripts!r}")
            target.append(z)
            eyes.append((first[c], c + z))
        else:
            first[c] = pos
            target.append(c)
    avail = set(out).union(*(ins[j] for j in range(len(ins)) if j != i), *(e for _, e in eyes))
    missing = tuple(pos for pos, c in enumerate(target) if c not in avail)
    kept = "".join(c for pos, c in enumerate(target) if pos not in missing)
    terms = [out] + [ins[j] for j in range(len(ins)) if j != i] + [e for _, e in eyes]
    others = tuple(j for j in range(len(ins)) if j != i)
    return ",".join(terms) + "->" + kept, others, tuple(pos for pos, _ in eyes), missing


def _einsum_vjp(i, g, ans, *operands, subscripts):
    # swap rule: ā_i = einsum(out, other operands -> s_i)
    grad_subs, others, eye_axes, missing = _einsum_grad_plan(subscripts, i)
    x = operands[i]
    eyes = [np.eye(x.shape[pos], dtype=g.dtype) for pos in eye_axes]  # constants: diagonal embedding
    r = einsum_p(g, *[conj_of(operands[j]) for j in others], *eyes, subscripts=grad_subs)  # conj: complex values
    if missing:
        # an index only operand i carries was summed away in the forward: ḡ is copied along it
        r = _broadcast_to(r.reshape(tuple(1 if p in missing else n for p, n in enumerate(x.shape))), x.shape)
    return r


def _einsum_jvp(ts, ans, *operands, subscripts):
    # multilinear: ṫ = Σ_k einsum(..., ȧ_k, ...)
    total = None
    for k, t in enumerate(ts):
        term = einsum_p(*operands[:k], t, *operands[k + 1:], subscripts=subscripts)
        total = term if total is None else total + term
    return total


def _einsum_notation(operands, kw, values, call):
    # the subscripts are written first, as the call's first argument
    if "subscripts" not in kw:
        return None
    return call([repr(kw["subscripts"])] + [o for o in operands if o is not None])


def _einsum_batch(prim, vals, bat, kw, size):
    # the batch axis is one more index, a fresh letter, on the batched operands and in front of the output
    subs, targets = _einsum_plan(kw["subscripts"], tuple(tuple(shape_of(v)[1:] if b else shape_of(v))
                                                         for v, b in zip(vals, bat)))
    z = _fresh_letter(subs)
    if z is None or any(t is not None for t in targets):
        return fallback(prim, vals, bat, kw, size)
    lhs, out = subs.split("->")
    terms = [z + t if b else t for t, b in zip(lhs.split(","), bat)]
    return apply(prim, vals, dict(kw, subscripts=",".join(terms) + "->" + z + out))


einsum_p = Primitive("einsum", _einsum, vjp=_einsum_vjp, jvp=_einsum_jvp, joint_jvp=True, variadic=True,
                     save=("args",), batch=_einsum_batch, notation=_einsum_notation,
                     call_args=lambda kw, shapes: [(k, v) for k, v in kw.items() if k != "subscripts"])


def _sublist_text(sub, what):
    """One sublist (integers naming axes, Ellipsis for ``...``) as einsum letters, as NumPy reads it."""
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
            continue
        try:
            k = operator.index(s)
        except TypeError:
            raise TypeError(f"einsum: {what} sublist {sub!r} must hold integers or Ellipsis, got {s!r}") from None
        if not 0 <= k < len(_SUBLIST_LETTERS):
            raise ValueError(f"einsum: subscript {k} in {what} sublist {sub!r} is not in [0, {len(_SUBLIST_LETTERS)})")
        out.append(_SUBLIST_LETTERS[k])
    return "".join(out)


def _from_sublists(args):
    """``(op0, sub0, op1, sub1, ..., [out])`` as a subscripts string and the operands."""
    ops, terms = list(args[0::2][: len(args) // 2]), [_sublist_text(s, "an operand's") for s in args[1::2]]
    text = ",".join(terms)
    if len(args) % 2:
        text += "->" + _sublist_text(args[-1], "the output")
    return text, tuple(ops)


def einsum(subscripts, *operands, optimize=None):
    """Einstein summation like ``np.einsum`` (implicit/explicit output, ``...``, repeated indices), also in
    NumPy's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (integers 0-51, ``Ellipsis`` for ``...``).

    ``optimize`` is accepted for NumPy compatibility; the contraction order is chosen automatically.

    >>> import chainrule as cr
    >>> cr.einsum("ij,jk->ik", cr.ones((2, 3)), cr.ones((3, 4))).shape
    (2, 4)
    >>> cr.einsum("ii", cr.eye(3))
    tensor(3.)
    >>> cr.einsum(cr.ones((2, 3)), [0, 1], cr.ones((3, 4)), [1, 2], [0, 2]).shape
    (2, 4)
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts,) + operands)
    ops = [_arr(x) for x in operands]
    subs, targets = _einsum_plan(subscripts, tuple(op.shape for op in ops))
    for k, shape in enumerate(targets):
        if shape is not None:  # size-1 axes stretched first, so every rule sees one size per index
            ops[k] = _broadcast_to(ops[k], shape)
    return einsum_p(*ops, subscripts=subs)
