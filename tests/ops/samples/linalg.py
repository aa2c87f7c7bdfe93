"""Sample cases of the linalg primitives, read by tests/ops/test_linalg.py, the vmap tests and the coverage test."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.ops import contractions as C
from chainrule.ops import linalg as L
from chainrule.ops import products as P
from tests.ops.harness import Case

_rng = np.random.default_rng(42)


def r(*shape):
    return _rng.standard_normal(shape)


def spd(*shape):
    """Well-conditioned square matrices (for inv, det, solve)."""
    a = r(*shape)
    return a + 3 * np.eye(shape[-1])


def mm(a_shape, b_shape):
    return Case("matmul", P.matmul, (r(*a_shape), r(*b_shape)), np.matmul)


def es(subs, *shapes, label="", ref=None):
    return Case("einsum", lambda *xs: C.einsum(subs, *xs), tuple(r(*s) for s in shapes),
                ref or (lambda *xs: np.einsum(subs, *xs)), label=label or subs)


def nrm(shape, label, x=None, name="norm", **kw):
    """A norm case; ``name`` is the primitive that order really runs (ord=1 is a sum of abs, inf a max, ...)."""
    x = r(*shape) if x is None else x
    return Case(name, lambda t: L.norm(t, **kw), (x,), lambda a: np.linalg.norm(a, **kw), label=f"norm {label}")


def fnc(name, fn, ref, *args, label):
    return Case(name, fn, args, ref, label=label)


CASES = [
    # matmul: every dimension combination, batches, broadcast batches, inner dimension 1
    mm((3,), (3,)),
    mm((3,), (3, 4)),
    mm((2, 3), (3,)),
    mm((2, 3), (3, 4)),
    mm((2, 2, 3), (2, 3, 4)),
    mm((2, 1, 3, 4), (5, 4, 2)),
    mm((3,), (2, 3, 4)),
    mm((2, 4, 3), (3,)),
    mm((2, 1), (1, 3)),
    mm((2, 3, 1), (1, 4)),
    mm((1, 3), (3, 1)),
    mm((1,), (1, 3)),
    # dot / inner / outer / vdot are built on matmul, tensordot and multiply
    fnc("multiply", P.dot, np.dot, r(), r(3), label="dot 0d,3"),
    fnc("matmul", P.dot, np.dot, r(3), r(3), label="dot 3,3"),
    fnc("matmul", P.dot, np.dot, r(2, 3), r(3, 4), label="dot 2x3,3x4"),
    fnc("matmul", P.dot, np.dot, r(2, 3, 4), r(4), label="dot 2x3x4,4"),
    fnc("matmul", P.dot, np.dot, r(4), r(2, 4, 3), label="dot 4,2x4x3"),
    fnc("tensordot", P.dot, np.dot, r(2, 3, 4), r(5, 4, 2), label="dot 2x3x4,5x4x2"),
    fnc("tensordot", P.inner, np.inner, r(2, 3), r(4, 3), label="inner 2x3,4x3"),
    fnc("matmul", P.inner, np.inner, r(3), r(3), label="inner 3,3"),
    fnc("multiply", P.outer, np.outer, r(3), r(2, 2), label="outer 3,2x2"),
    fnc("matmul", P.vdot, np.vdot, r(2, 2), r(4), label="vdot 2x2,4"),
    fnc("matmul", lambda a, b: a.dot(b), lambda a, b: a.dot(b), r(2, 3), r(3), label="method dot"),
    # tensordot
    fnc("tensordot", lambda a, b: C.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1), r(2, 3), r(3, 4),
        label="axes=1"),
    fnc("tensordot", C.tensordot, np.tensordot, r(2, 3, 4), r(3, 4, 2), label="axes=2"),
    fnc("tensordot", lambda a, b: C.tensordot(a, b, ([1, 0], [0, 1])),
        lambda a, b: np.tensordot(a, b, ([1, 0], [0, 1])), r(3, 4, 2), r(4, 3, 5), label="axes=([1,0],[0,1])"),
    fnc("tensordot", lambda a, b: C.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0), r(2), r(3),
        label="axes=0"),
    fnc("tensordot", lambda a, b: C.tensordot(a, b, (-1, 0)), lambda a, b: np.tensordot(a, b, (-1, 0)),
        r(2, 3), r(3, 2), label="axes=(-1,0)"),
    # einsum: the swap rule, with repeated indices, indices summed away, ellipses and broadcasting
    es("ij,jk->ik", (2, 3), (3, 4)),
    es("ij->ji", (2, 3)),
    es("ii->i", (3, 3)),
    es("ii->", (3, 3)),
    es("ii", (3, 3), label="implicit ii"),
    es("i,i->", (4,), (4,)),
    es("i,j->ij", (2,), (3,)),
    es("...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2), label="ellipsis broadcast"),
    es("bij,bjk->bik", (2, 3, 4), (2, 4, 2)),
    es("ij,ij->", (2, 3), (2, 3)),
    es("ij,jk", (2, 3), (3, 4), label="implicit ij,jk"),
    es("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    es("ij->", (2, 3)),
    es("ij->i", (2, 3)),
    es("iij->j", (2, 2, 3)),
    es("iji->ij", (2, 3, 2)),
    es("ijk->kji", (2, 3, 4)),
    es("...i,...i->...", (2, 3), (3,), label="ellipsis batch dot"),
    # (plain np.einsum refuses to sum '...' away; its optimize=True path and chainrule sum it)
    es("...i->i", (2, 3, 4), label="ellipsis summed", ref=lambda x: x.sum(axis=(0, 1))),
    es("ai,ai->a", (1, 3), (4, 3), label="size-1 index broadcast"),
    es("ij,j->ij", (3, 2), (2,)),
    es(",->", (), (), label="scalars"),
    es("i,i,i->", (3,), (3,), (3,)),
    es("ij,jk->ik", (40, 40), (40, 40), label="greedy path 40x40"),
    es("ij,jk,kl->il", (20, 20), (20, 20), (20, 20), label="greedy path 3 operands"),
    # diagonal and trace
    fnc("diagonal", L.diagonal, np.diagonal, r(3, 3), label="3x3"),
    fnc("diagonal", lambda x: L.diagonal(x, 1), lambda x: np.diagonal(x, 1), r(3, 4), label="offset=1"),
    fnc("diagonal", lambda x: L.diagonal(x, -1), lambda x: np.diagonal(x, -1), r(4, 3), label="offset=-1"),
    fnc("diagonal", lambda x: L.diagonal(x, 1, 0, 2), lambda x: np.diagonal(x, 1, 0, 2), r(2, 3, 4),
        label="3d offset=1 axes 0,2"),
    fnc("diagonal", lambda x: x.diagonal(), lambda x: x.diagonal(), r(2, 2), label="method"),
    fnc("diagonal", L.trace, np.trace, r(3, 3), label="trace 3x3"),
    fnc("diagonal", lambda x: L.trace(x, 0, 1, 2), lambda x: np.trace(x, 0, 1, 2), r(2, 3, 3),
        label="trace batched"),
    fnc("diagonal", lambda x: L.trace(x, 1), lambda x: np.trace(x, 1), r(3, 4), label="trace offset=1"),
    fnc("diagonal", lambda x: x.trace(), lambda x: x.trace(), r(3, 3), label="trace method"),
    # norm: vector orders, axis and keepdims variants, matrix orders, zeros
    nrm((4,), "vector default"),
    nrm((4,), "ord=2", ord=2),
    nrm((4,), "ord=1", name="abs", ord=1),
    nrm((4,), "ord=inf", name="max", ord=np.inf),
    nrm((4,), "ord=-inf", name="min", ord=-np.inf),
    nrm((4,), "ord=3", ord=3),
    nrm((4,), "ord=1.5", ord=1.5),
    nrm((4,), "ord=0", ord=0),
    nrm((3, 4), "ord=0 axis=1 keepdims", x=np.array([[0.0, 1.0, 2.0, 0.0]] * 3), ord=0, axis=1, keepdims=True),
    fnc("tensordot", lambda a, b: C.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0), r(), r(), label="0-d"),
    fnc("tensordot", lambda a, b: C.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0), r(), r(2, 3),
        label="0-d, matrix"),
    fnc("tensordot", lambda a, b: C.tensordot(a, b, ([], [])), lambda a, b: np.tensordot(a, b, ([], [])), r(2), r(2),
        label="empty axis lists"),
    fnc("tensordot", lambda a, b: C.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1), r(1), r(1, 3),
        label="length-1 contraction"),
    fnc("norm", lambda x: cr.linalg.vector_norm(x, ord=3), lambda x: np.linalg.vector_norm(x, ord=3), r(2, 3),
        label="vector_norm flattened"),
    fnc("norm", lambda x: cr.linalg.matrix_norm(x), lambda x: np.linalg.matrix_norm(x), r(2, 3, 4),
        label="matrix_norm batched"),
    fnc("matmul", lambda a, b, c: cr.linalg.multi_dot([a, b, c]), lambda a, b, c: np.linalg.multi_dot([a, b, c]),
        r(3), r(3, 4), r(4, 2), label="multi_dot"),
    fnc("transpose", lambda a: np.linalg.matrix_transpose(a), np.linalg.matrix_transpose, r(2, 3, 4),
        label="np.linalg.matrix_transpose"),
    fnc("sum", lambda a, b: np.linalg.vecdot(a, b), np.linalg.vecdot, r(2, 3), r(3), label="np.linalg.vecdot"),
    fnc("diagonal", lambda a: np.linalg.trace(a, offset=1), lambda a: np.linalg.trace(a, offset=1), r(2, 3, 4),
        label="np.linalg.trace: last two axes"),
    fnc("diagonal", lambda a: np.linalg.diagonal(a), np.linalg.diagonal, r(2, 3, 3),
        label="np.linalg.diagonal: last two axes"),
    nrm((), "0d"),
    nrm((3, 4), "axis=0", axis=0),
    nrm((3, 4), "axis=-1 keepdims", axis=-1, keepdims=True),
    nrm((3, 4), "ord=3 axis=1", ord=3, axis=1),
    nrm((2, 3, 4), "flattened keepdims", keepdims=True),
    nrm((3, 4), "matrix default"),
    nrm((3, 4), "fro", ord="fro"),
    nrm((3, 4), "matrix ord=1", name="max", ord=1),
    nrm((3, 4), "matrix ord=-1", name="min", ord=-1),
    nrm((3, 4), "matrix ord=inf", name="max", ord=np.inf),
    nrm((3, 4), "matrix ord=-inf", name="min", ord=-np.inf),
    nrm((2, 3, 4), "fro axis=(2,0) keepdims", ord="fro", axis=(2, 0), keepdims=True),
    nrm((2, 3, 4), "matrix ord=1 axis=(1,2)", name="max", ord=1, axis=(1, 2)),
    Case("norm", L.norm, (np.zeros(3),), np.linalg.norm, label="zero vector", order2=False,
         why="second order at 0 is the documented convention 0, finite differences of the gradient blow up"),
    Case("norm", lambda x: L.norm(x, axis=1), (np.array([[0.0, 0.0], [3.0, 4.0]]),),
         lambda x: np.linalg.norm(x, axis=1), label="one zero row", order2=False,
         why="second order at 0 is the documented convention 0"),
    # inverse, determinant, solve
    fnc("inv", L.inv, np.linalg.inv, spd(3, 3), label="3x3"),
    fnc("inv", L.inv, np.linalg.inv, spd(2, 3, 3), label="batched"),
    fnc("det", L.det, np.linalg.det, spd(3, 3), label="3x3"),
    fnc("det", L.det, np.linalg.det, spd(2, 2, 2), label="batched"),
    fnc("solve", L.solve, np.linalg.solve, spd(3, 3), r(3), label="vector b"),
    fnc("solve", L.solve, np.linalg.solve, spd(3, 3), r(3, 2), label="matrix b"),
    fnc("solve", L.solve, np.linalg.solve, spd(2, 3, 3), r(3), label="batched A, vector b"),
    fnc("solve", L.solve, np.linalg.solve, spd(2, 3, 3), r(3, 2), label="batched A, broadcast b"),
]
