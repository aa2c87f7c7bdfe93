"""Linear algebra: matmul, tensordot, einsum, diagonal, norm, inv, det, solve, and the products built on them."""

from __future__ import annotations

import functools
import math
import string

import numpy as np

from ..core.primitive import Primitive
from ..core.shapes import astype as _astype
from ..core.shapes import broadcast_to as _broadcast_to
from ..core.tensor import Tensor
from . import elementwise as E
from . import reduce as R
from .shape import reshape, swapaxes

_LETTERS = string.ascii_letters  # the index names np.einsum accepts
_GREEDY_ABOVE = 50_000  # iteration-space size above which a BLAS contraction path beats plain np.einsum


def _arr(x):
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x)


def _mT(x):
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    return x.T if x.ndim == 2 else swapaxes(x, -1, -2)


# ---- matmul -----------------------------------------------------------------------
def _matmul(a, b):
    # OpenBLAS runs a gemm whose inner dimension is 1 several times slower than np.dot
    # (2-D) or the equivalent broadcast product (batched): both measured faster.
    if a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == 1:
        return np.dot(a, b) if a.ndim == 2 and b.ndim == 2 else np.multiply(a, b)
    return np.matmul(a, b)


def _promote(g, a, b):
    """View 1-D operands as a row (a) / column (b) and ḡ with the matching size-1 axes."""
    if a.ndim == 1 and b.ndim == 1:
        return g.reshape((1, 1)), a.reshape((1,) + a.shape), b.reshape(b.shape + (1,))
    if a.ndim == 1:
        return g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]), a.reshape((1,) + a.shape), b
    return g.reshape(g.shape + (1,)), a, b.reshape(b.shape + (1,))


def _matmul_vjp_a(g, ans, a, b):
    if a.ndim > 1 and b.ndim > 1:
        return matmul_p(g, _mT(b))  # ā = ḡ bᵀ (the engine sums broadcast batch axes)
    if a.ndim == 1 and b.ndim == 2:
        return matmul_p(b, g)  # ā = b ḡ: a matrix-vector product, not a product with a column
    g, a2, b2 = _promote(g, a, b)
    ga = matmul_p(g, _mT(b2))
    return ga.reshape(ga.shape[:-2] + a.shape[-1:]) if a.ndim == 1 else ga


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim > 1 and b.ndim > 1:
        return matmul_p(_mT(a), g)  # b̄ = aᵀ ḡ
    if a.ndim == 2 and b.ndim == 1:
        return matmul_p(g, a)  # b̄ = aᵀ ḡ = ḡ a: BLAS's gemv, ~10% faster than aᵀ times a column
    g, a2, b2 = _promote(g, a, b)
    gb = matmul_p(_mT(a2), g)
    # drop the column axis: (..., n, 1) could not be summed back to (n,) by the engine
    return gb.reshape(gb.shape[:-1]) if b.ndim == 1 else gb


# A matrix-vector product reads the whole matrix for a few flops per entry, so it runs at
# memory speed; W x and its tangent W v read W twice. As one product of W with the two vectors
# stacked, block of rows by block of rows, W is read once: measured here (2000 x 2000, one BLAS
# thread) 1.05-1.15x the time of one product rather than 2x, in float64 and float32, which is
# what makes forward-over-reverse hvp cheap. (OpenBLAS's gemm on the whole W with two columns
# is slower than two products; blocks of 128 rows or fewer, about 1 MB, avoid its packing.)
_FUSE_MIN_BYTES = 1 << 21  # smaller matrices stay in the cache anyway
_BLOCK_BYTES = 1 << 20
_BLOCK_ROWS = 128


def _block_rows(M):
    return max(1, min(_BLOCK_ROWS, _BLOCK_BYTES // max(1, M.strides[0])))


def _rows_times(M, u, t):
    """``(M @ u, M @ t)`` for a C-contiguous matrix M: ``[u; t] @ Mᵀ`` block of rows by block of rows."""
    X = np.stack([u, t])
    y = np.empty((2, M.shape[0]), np.result_type(M, X))
    step = _block_rows(M)
    for i in range(0, M.shape[0], step):
        np.matmul(X, M[i : i + step].T, out=y[:, i : i + step])
    return y[0].copy(), y[1].copy()  # two arrays: a write into the tangent must not touch the value


def _times_rows(u, t, M):
    """``(u @ M, t @ M)`` for a C-contiguous matrix M: each block of rows' contribution, summed."""
    X = np.stack([u, t])
    y = np.zeros((2, M.shape[1]), np.result_type(M, X))
    part = np.empty_like(y)
    step = _block_rows(M)
    for i in range(0, M.shape[0], step):
        y += np.matmul(X[:, i : i + step], M[i : i + step], out=part)
    return y[0].copy(), y[1].copy()  # two arrays: a write into the tangent must not touch the value


def _matmul_fused(i, a, b, t):
    """``(a @ b, tangent)`` with one pass over a large matrix, for a tangent ``t`` on a vector operand.

    Declines (None) unless the other operand is a large 2-D matrix and the tangent's operand
    is a vector (1-D, or a single column / row); then ``M x`` and ``M v`` are computed together.
    """
    M, u = (a, b) if i == 1 else (b, a)
    # float16 declines: the blocks' partial sums would round in float16, where one BLAS call does not
    if M.ndim != 2 or M.nbytes < _FUSE_MIN_BYTES or M.dtype.kind != "f" or u.dtype.kind != "f" or \
            min(M.itemsize, u.itemsize, t.itemsize) < 4:
        return None
    if i == 1:  # M @ u, u a vector or a column
        if u.shape not in ((M.shape[1],), (M.shape[1], 1)):
            return None
        shape = (M.shape[0],) + u.shape[1:]
        if M.flags.c_contiguous:
            y, ty = _rows_times(M, u.reshape(-1), t.reshape(-1))
        elif M.flags.f_contiguous:
            y, ty = _times_rows(u.reshape(-1), t.reshape(-1), M.T)  # M u = (uᵀ Mᵀ)ᵀ, Mᵀ C-contiguous
        else:
            return None
    else:  # u @ M, u a vector or a row
        if u.shape not in ((M.shape[0],), (1, M.shape[0])):
            return None
        shape = u.shape[:-1] + (M.shape[1],)
        if M.flags.c_contiguous:
            y, ty = _times_rows(u.reshape(-1), t.reshape(-1), M)
        elif M.flags.f_contiguous:
            y, ty = _rows_times(M.T, u.reshape(-1), t.reshape(-1))
        else:
            return None
    return y.reshape(shape), ty.reshape(shape)


matmul_p = Primitive(
    "matmul",
    _matmul,
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    jvp=(lambda t, ans, a, b: matmul_p(t, b), lambda t, ans, a, b: matmul_p(a, t)),  # bilinear
    save=("args",),
    fused_jvp=_matmul_fused,
)


def _check_matmul(op, a, b, batch=True):
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError(f"{op}: operands need at least 1 dimension, got shapes {sa} and {sb} (use * for scalars)")
    inner = sb[-2] if len(sb) > 1 else sb[0]
    if sa[-1] != inner:
        raise ValueError(f"{op}: shapes {sa} and {sb} are not aligned: {sa[-1]} (last axis of the first) != "
                         f"{inner} ({'second-to-last' if len(sb) > 1 else 'only'} axis of the second)")
    if batch and len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"{op}: the batch axes of shapes {sa} and {sb} cannot be broadcast together") from None


def matmul(a, b):
    """Matrix product with NumPy's rules (1-D operands, broadcast batch axes); also ``a @ b``.

    >>> import chainrule as cr
    >>> cr.matmul(cr.ones((2, 3)), cr.ones((3,)))
    tensor([3., 3.])
    """
    a, b = _arr(a), _arr(b)
    _check_matmul("matmul", a, b)
    return matmul_p(a, b)


def dot(a, b):
    """``np.dot``: a product for scalars, matmul up to 2-D, a sum over a's last and b's second-to-last axis beyond.

    >>> import chainrule as cr
    >>> cr.dot(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]))
    tensor(11.)
    """
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        return E.multiply(a, b)
    _check_matmul("dot", a, b, batch=False)
    if (a.ndim <= 2 and b.ndim <= 2) or a.ndim == 1 or b.ndim == 1:
        return matmul_p(a, b)  # the same contraction as np.dot for these shapes
    return tensordot_p(a, b, axes=((a.ndim - 1,), (b.ndim - 2,)))


def inner(a, b):
    """``np.inner``: sum over the last axes of both operands.

    >>> import chainrule as cr
    >>> cr.inner(cr.ones((2, 3)), cr.ones(3))
    tensor([3., 3.])
    """
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        return E.multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: the last axes of shapes {a.shape} and {b.shape} differ")
    if a.ndim == 1 and b.ndim == 1:
        return matmul_p(a, b)
    return tensordot_p(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def outer(a, b):
    """``np.outer``: every product of the flattened operands, shape (a.size, b.size).

    >>> import chainrule as cr
    >>> cr.outer(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 10.0]))
    tensor([[ 1., 10.],
            [ 2., 20.]])
    """
    a, b = _arr(a), _arr(b)
    return E.multiply(reshape(a, (a.size, 1)), reshape(b, (1, b.size)))


def vdot(a, b):
    """``np.vdot`` for real arrays: the dot product of the flattened operands.

    >>> import chainrule as cr
    >>> cr.vdot(cr.ones((2, 2)), cr.ones(4))
    tensor(4.)
    """
    a, b = _arr(a), _arr(b)
    if a.size != b.size:
        raise ValueError(f"vdot: shapes {a.shape} and {b.shape} have different sizes")
    return matmul_p(reshape(a, (a.size,)), reshape(b, (b.size,)))


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
        if which == 0:
            return einsum_p(g, b, subscripts=f"{out},{lb}->{la}")  # ā = ḡ contracted with b over b's free axes
        return einsum_p(g, a, subscripts=f"{out},{la}->{lb}")  # b̄ = ḡ contracted with a over a's free axes

    return rule


tensordot_p = Primitive(
    "tensordot",
    lambda a, b, axes: np.tensordot(a, b, axes=axes),
    vjp=(_tensordot_vjp(0), _tensordot_vjp(1)),
    jvp=(lambda t, ans, a, b, axes: tensordot_p(t, b, axes=axes),
         lambda t, ans, a, b, axes: tensordot_p(a, t, axes=axes)),  # bilinear
    save=("args",),
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
    r = einsum_p(g, *[operands[j] for j in others], *eyes, subscripts=grad_subs)
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


einsum_p = Primitive("einsum", _einsum, vjp=_einsum_vjp, jvp=_einsum_jvp, joint_jvp=True, variadic=True,
                     save=("args",))


def einsum(subscripts, *operands, optimize=None):
    """Einstein summation like ``np.einsum`` (implicit/explicit output, ``...``, repeated indices).

    ``optimize`` is accepted for NumPy compatibility; the contraction order is chosen automatically.

    >>> import chainrule as cr
    >>> cr.einsum("ij,jk->ik", cr.ones((2, 3)), cr.ones((3, 4))).shape
    (2, 4)
    >>> cr.einsum("ii", cr.eye(3))
    tensor(3.)
    """
    if not isinstance(subscripts, str):
        raise TypeError("einsum: subscripts must be a string such as 'ij,jk->ik' (the sublist form is not supported)")
    ops = [_arr(x) for x in operands]
    subs, targets = _einsum_plan(subscripts, tuple(op.shape for op in ops))
    for k, shape in enumerate(targets):
        if shape is not None:  # size-1 axes stretched first, so every rule sees one size per index
            ops[k] = _broadcast_to(ops[k], shape)
    return einsum_p(*ops, subscripts=subs)


# ---- diagonal and trace -----------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _diag_subscripts(ndim, axis1, axis2):
    """einsum subscripts moving ḡ onto the rows that hold the diagonal, then out to both axes."""
    names = [c for c in _LETTERS if c not in "ijk"][:ndim]
    rest = "".join(c for k, c in enumerate(names) if k not in (axis1, axis2))
    names[axis1], names[axis2] = "i", "j"
    return f"{rest}k,ik->{rest}i", f"{rest}i,ij->{''.join(names)}"


def _diagonal_vjp(g, ans, x, offset, axis1, axis2, shape):
    # x̄ = ḡ put back on the diagonal, zeros elsewhere (the transpose of the linear map "take the diagonal")
    to_rows, spread = _diag_subscripts(len(shape), axis1, axis2)
    k = g.shape[-1]
    rows, cols = np.arange(k) + max(-offset, 0), np.arange(k) + max(offset, 0)
    onto = np.zeros((shape[axis1], k), dtype=g.dtype)  # constant one-hot maps, O(n²) work
    onto[rows, np.arange(k)] = 1
    mask = np.zeros((shape[axis1], shape[axis2]), dtype=g.dtype)
    mask[rows, cols] = 1
    return einsum_p(einsum_p(g, onto, subscripts=to_rows), mask, subscripts=spread)


diagonal_p = Primitive(
    "diagonal",
    lambda x, offset, axis1, axis2, shape: np.diagonal(x, offset, axis1, axis2),
    vjp=(_diagonal_vjp,),
    jvp=(lambda t, ans, x, **kw: diagonal_p(t, **kw),),  # linear
    save=(),  # the rule needs only the shape, passed as a static argument
)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """``np.diagonal``: the diagonal over ``axis1``/``axis2``, appended as the last axis.

    >>> import chainrule as cr
    >>> cr.diagonal(cr.eye(3) * 2)
    tensor([2., 2., 2.])
    """
    x = _arr(x)
    if x.ndim < 2 or not (-x.ndim <= axis1 < x.ndim and -x.ndim <= axis2 < x.ndim):
        raise ValueError(f"diagonal: axis1={axis1}, axis2={axis2} do not fit shape {x.shape}")
    a1, a2 = axis1 % x.ndim, axis2 % x.ndim
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2} for shape {x.shape}")
    return diagonal_p(x, offset=int(offset), axis1=a1, axis2=a2, shape=x.shape)


def trace(x, offset=0, axis1=0, axis2=1):
    """``np.trace``: the sum along a diagonal.

    >>> import chainrule as cr
    >>> cr.trace(cr.eye(3))
    tensor(3.)
    """
    return R.sum(diagonal(x, offset, axis1, axis2), axis=-1)


# ---- norm -------------------------------------------------------------------------
def _keep(g, shape, axes, keepdims):
    """``g`` with the reduced axes put back as size 1, so it broadcasts against the input."""
    if keepdims or not axes:
        return g
    return g.reshape(tuple(1 if k in axes else n for k, n in enumerate(shape)))


def _pnorm(x, p, axes, keepdims):
    if p == 0:  # the count of non-zero entries, in x's float dtype (as NumPy)
        return np.sum(x != 0, axis=axes, keepdims=keepdims).astype(x.dtype)
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdims))
    return np.sum(np.abs(x) ** p, axis=axes, keepdims=keepdims) ** (1.0 / p)


def _dnorm(ans, x, p, axes, keepdims):
    """∂‖x‖_p/∂x = sign(x) (|x| / ‖x‖)^(p-1), which is x / ‖x‖ for p = 2."""
    if p == 0:
        return E._zeros_like(x)  # NOTE: the count of non-zeros is piecewise constant: gradient 0, as PyTorch
    ans = _keep(ans, x.shape, axes, keepdims)
    zero = ans == 0
    safe = E.where(zero, 1, ans)
    d = x / safe if p == 2 else E.sign(x) * (E.abs(x) / safe) ** (p - 1)
    # NOTE: at the zero vector the gradient, and every higher derivative, is taken as 0 (not NaN)
    return E.where(zero, 0, d)


norm_p = Primitive(
    "norm",
    _pnorm,
    vjp=(lambda g, ans, x, p, axes, keepdims: _keep(g, x.shape, axes, keepdims) * _dnorm(ans, x, p, axes, keepdims),),
    jvp=(lambda t, ans, x, p, axes, keepdims: R.sum(t * _dnorm(ans, x, p, axes, keepdims), axis=axes,
                                                     keepdims=keepdims),),
    save=("args", "ans"),
)


def _vector_norm(x, ord, axes, keepdims):
    if ord is None or ord == 2:
        return norm_p(x, p=2.0, axes=axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors (input shape {x.shape}, axis {axes[0]})")
    if ord == math.inf or ord == -math.inf:  # max / min |x|: ties split the gradient like max / min
        return (R.max if ord > 0 else R.min)(E.abs(x), axis=axes, keepdims=keepdims)
    if ord == 1:
        return R.sum(E.abs(x), axis=axes, keepdims=keepdims)  # NOTE: abs'(0) = 0
    if ord == 0:  # the count of non-zero entries: on the graph, with gradient 0
        return norm_p(x, p=0.0, axes=axes, keepdims=keepdims)
    return norm_p(x, p=float(ord), axes=axes, keepdims=keepdims)


def _matrix_norm(x, ord, axes, keepdims):
    if ord is None or ord == "fro":
        return norm_p(x, p=2.0, axes=axes, keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"norm: ord={ord!r} for matrices (a singular-value norm) is not implemented; "
                                  f"use ord='fro', 1, -1, inf or -inf")
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices (input shape {x.shape}, axes {axes})")
    # 1 / -1: max / min column sum; inf / -inf: max / min row sum (NumPy's definitions)
    summed, over = (axes[0], axes[1]) if ord in (1, -1) else (axes[1], axes[0])
    out = (R.max if ord > 0 else R.min)(R.sum(E.abs(x), axis=summed, keepdims=True), axis=over, keepdims=True)
    return out if keepdims else reshape(out, tuple(n for k, n in enumerate(x.shape) if k not in axes))


def norm(x, ord=None, axis=None, keepdims=False):
    """``np.linalg.norm``: vector norms (ord None/2/1/inf/-inf/0/p) and matrix norms (None/'fro'/1/-1/inf/-inf).

    The gradient at the zero vector is 0 (not NaN).

    >>> import chainrule as cr
    >>> cr.norm(cr.tensor([3.0, 4.0]))
    tensor(5.)
    """
    x = _arr(x)
    if x.dtype.kind in "biu":  # like NumPy: integers are measured as floats (x*x must not overflow)
        x = _astype(x, dtype=np.dtype(np.float64))
    nd = x.ndim
    if axis is None:
        axes = tuple(range(nd))
        if ord is None:  # the 2-norm of the flattened array
            return norm_p(x, p=2.0, axes=axes, keepdims=bool(keepdims))
        if nd not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D input, got shape {x.shape}")
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        if not all(-nd <= int(a) < nd for a in axes) or len(axes) not in (1, 2):
            raise ValueError(f"norm: axis={axis!r} does not fit shape {x.shape} (give one axis or two)")
        axes = tuple(int(a) % nd for a in axes)
        if len(set(axes)) < len(axes):
            raise ValueError(f"norm: axis={axis!r} repeats an axis of shape {x.shape}")
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, bool(keepdims))
    return _matrix_norm(x, ord, axes, bool(keepdims))


# ---- inverse, determinant, solve --------------------------------------------------
def _square(op, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: expected a square matrix or a stack of them, got shape {a.shape}")


inv_p = Primitive(
    "inv",
    np.linalg.inv,
    # d(A⁻¹) = -A⁻¹ dA A⁻¹, so Ā = -A⁻ᵀ ḡ A⁻ᵀ
    vjp=(lambda g, ans, a: -matmul_p(_mT(ans), matmul_p(g, _mT(ans))),),
    jvp=(lambda t, ans, a: -matmul_p(ans, matmul_p(t, ans)),),
    save=("ans",),
)


def inv(a):
    """``np.linalg.inv`` of a square matrix or a stack of them.

    >>> import chainrule as cr
    >>> from chainrule.ops.linalg import inv
    >>> inv(cr.eye(2) * 2)
    tensor([[0.5, 0. ],
            [0. , 0.5]])
    """
    a = _arr(a)
    _square("inv", a)
    return inv_p(a)


def _unsqueeze2(v):
    return v.reshape(v.shape + (1, 1))


det_p = Primitive(
    "det",
    np.linalg.det,
    # Jacobi's formula: d det A = det A · tr(A⁻¹ dA), so Ā = ḡ det A · A⁻ᵀ (A must be invertible)
    vjp=(lambda g, ans, a: _unsqueeze2(g * ans) * _mT(inv_p(a)),),
    jvp=(lambda t, ans, a: ans * einsum("...ij,...ji->...", inv_p(a), t),),
    save=("args", "ans"),
)


def det(a):
    """``np.linalg.det`` of a square matrix or a stack of them (its gradient needs an invertible matrix).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.ops.linalg import det
    >>> float(det(cr.tensor(np.diag([2.0, 3.0]))))
    6.0
    """
    a = _arr(a)
    _square("det", a)
    return det_p(a)


def _col(v, b):
    """A vector right-hand side (b 1-D) as a column, so batched solves and products read it right."""
    return v.reshape(v.shape + (1,)) if b.ndim == 1 else v


def _uncol(v, b):
    return v.reshape(v.shape[:-1]) if b.ndim == 1 else v


def _solve_vjp_b(g, ans, a, b):
    return _uncol(solve_p(_mT(a), _col(g, b)), b)  # b̄ = A⁻ᵀ ḡ


def _solve_vjp_a(g, ans, a, b):
    gb = solve_p(_mT(a), _col(g, b))  # Ā = -b̄ xᵀ (b̄ as a column when b is a vector)
    return -matmul_p(gb, _mT(_col(ans, b)))


solve_p = Primitive(
    "solve",
    np.linalg.solve,
    vjp=(_solve_vjp_a, _solve_vjp_b),
    # dx = A⁻¹ (db - dA x)
    jvp=(lambda t, ans, a, b: -_uncol(solve_p(a, matmul_p(t, _col(ans, b))), b), lambda t, ans, a, b: solve_p(a, t)),
    save=("args", "ans"),
)


def solve(a, b):
    """``np.linalg.solve`` (NumPy 2 rules: b is a vector only when 1-D, else a stack of matrices).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.ops.linalg import solve
    >>> solve(cr.tensor(np.diag([2.0, 4.0])), cr.tensor([2.0, 2.0]))
    tensor([1. , 0.5])
    """
    a, b = _arr(a), _arr(b)
    _square("solve", a)
    if b.ndim == 0 or (b.shape[-1] if b.ndim == 1 else b.shape[-2]) != a.shape[-1]:
        raise ValueError(f"solve: shapes {a.shape} and {b.shape} do not fit (b must be (M,) or (..., M, K))")
    return solve_p(a, b)


METHODS = {"dot": dot, "trace": trace, "diagonal": diagonal}
