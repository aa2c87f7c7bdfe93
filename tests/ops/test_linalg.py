"""Linear-algebra rules: matmul, tensordot, einsum, diagonal, norm, inv, det, solve (and dot/inner/outer/trace)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.backward import grad_of
from chainrule.core.forward import level, make_dual, tangent_of
from chainrule.core.tensor import Tensor
from chainrule.ops import contractions as C
from chainrule.ops import linalg as L
from chainrule.ops import products as P
from tests.ops.harness import Case, check_case

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


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def test_every_linalg_primitive_has_a_case():
    prims = {p.name for p in (P.matmul_p, C.tensordot_p, C.einsum_p, L.diagonal_p, L.norm_p, L.inv_p, L.det_p,
                              L.solve_p)}
    assert prims <= {c.name for c in CASES}


# ---- conventions --------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"ord": 3}, {"axis": 0}, {"ord": "fro", "axis": (0, 1)}])
def test_norm_gradient_at_zero_is_zero(kw):
    x = Tensor(np.zeros((3, 2)) if "axis" in kw else np.zeros(3), requires_grad=True)
    (g,) = grad_of([L.norm(x, **kw).sum()], [x], create_graph=True)
    assert np.array_equal(g.data, np.zeros(x.shape))
    # NOTE: the second derivative at 0 is 0 by the same convention
    (h,) = grad_of([(g * Tensor(np.ones(x.shape))).sum()], [x], allow_unused=True)
    assert h is None or np.array_equal(h.data, np.zeros(x.shape))
    with level() as lv:
        out = L.norm(make_dual(Tensor(np.zeros(x.shape)), Tensor(np.ones(x.shape)), lv), **kw)
        assert np.array_equal(tangent_of(out, lv).data, np.zeros(out.shape))


def test_matmul_float32_keeps_dtype_and_no_copy_needed():
    a = Tensor(np.ones((4, 3), np.float32), requires_grad=True)
    b = Tensor(np.ones((3, 1), np.float32), requires_grad=True)
    P.matmul(a, b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    assert np.array_equal(a.grad.data, np.ones((4, 3))) and np.array_equal(b.grad.data, np.full((3, 1), 4.0))


def test_matmul_operator_when_bound():
    if not hasattr(Tensor, "__matmul__"):
        pytest.skip("the lead binds @ to linalg.matmul")
    a, b = r(2, 3), r(3, 4)
    assert np.allclose((Tensor(a) @ Tensor(b)).data, a @ b)
    assert np.allclose((a @ Tensor(b)).data, a @ b)


def test_einsum_same_tensor_twice():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    C.einsum("i,i->", x, x).backward()
    assert np.allclose(x.grad.data, [2.0, 4.0, 6.0])


def test_norm_of_integers_is_float():
    out = L.norm(np.array([3, 4]))
    assert out.dtype == np.float64 and out.item() == 5.0


def test_singular_matrix_names_inv():
    with pytest.raises(np.linalg.LinAlgError, match="inv"):
        L.inv(Tensor(np.zeros((2, 2))))


def test_einsum_accepts_lists_and_arrays():
    out = C.einsum("i,i->", [1.0, 2.0], np.array([3.0, 4.0]))
    assert isinstance(out, Tensor) and out.item() == 11.0


# ---- errors name the operation and every shape ------------------------------------
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: P.matmul(r(2, 3), r(4, 5)), ["matmul", "(2, 3)", "(4, 5)"]),
        (lambda: P.matmul(r(3), r(2)), ["matmul", "(3,)", "(2,)"]),
        (lambda: P.matmul(r(), r(2)), ["matmul", "()", "(2,)"]),
        (lambda: P.matmul(r(2, 2, 3), r(3, 3, 4)), ["matmul", "(2, 2, 3)", "(3, 3, 4)", "batch"]),
        (lambda: P.dot(r(2, 3), r(2, 3)), ["dot", "(2, 3)"]),
        (lambda: P.inner(r(2, 3), r(2)), ["inner", "(2, 3)", "(2,)"]),
        (lambda: C.tensordot(r(2, 3), r(4, 5), 1), ["tensordot", "(2, 3)", "(4, 5)"]),
        (lambda: C.tensordot(r(2, 3), r(3, 5), ([0, 1], [0])), ["tensordot", "length"]),
        (lambda: C.einsum("ij,jk->ik", r(2, 3), r(4, 5)), ["einsum", "'ij,jk->ik'", "(2, 3)", "(4, 5)", "'j'"]),
        (lambda: C.einsum("ij,jk->ik", r(2, 3)), ["einsum", "2 operand subscript(s) for 1 operand"]),
        (lambda: C.einsum("ij->ik", r(2, 3)), ["einsum", "'k'"]),
        (lambda: C.einsum("ij", r(2, 3, 4)), ["einsum", "'ij'", "(2, 3, 4)"]),
        (lambda: C.einsum("i1->i", r(2, 3)), ["einsum", "invalid"]),
        (lambda: C.einsum("ii->i", r(2, 3)), ["einsum", "repeats"]),
        (lambda: C.einsum("i->ii", r(2)), ["einsum", "repeats"]),
        (lambda: L.norm(r(3), ord="fro"), ["norm", "'fro'", "vectors"]),
        (lambda: L.norm(r(3, 3), ord=3), ["norm", "matrices"]),
        (lambda: L.norm(r(2, 3, 4), ord=1), ["norm", "(2, 3, 4)"]),
        (lambda: L.norm(r(2, 3), axis=(0, 1, 1)), ["norm", "(2, 3)"]),
        (lambda: L.diagonal(r(3, 3), 0, 1, 1), ["diagonal", "(3, 3)"]),
        (lambda: L.inv(r(2, 3)), ["inv", "(2, 3)"]),
        (lambda: L.solve(spd(3, 3), r(2)), ["solve", "(3, 3)", "(2,)"]),
    ],
)
def test_error_messages(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_singular_value_norms_not_implemented(ord):
    with pytest.raises(NotImplementedError, match=f"norm: ord={ord!r}"):
        L.norm(r(3, 3), ord=ord)


def test_einsum_subscripts_must_be_a_string():
    with pytest.raises(TypeError, match="einsum"):
        C.einsum(r(2), [0], [0])


def test_public_examples_run():
    assert cr.tensor(1.0).item() == 1.0  # chainrule imports; the docstring examples run under --doctest-modules


def test_norm_ord_0_is_on_the_graph_with_gradient_0():
    x = Tensor(np.array([0.0, 2.0, -3.0]), requires_grad=True)
    y = L.norm(x, 0)
    assert y.item() == 2.0 and y.requires_grad
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])  # PyTorch gives 0 as well
    x32 = Tensor(np.ones(3, np.float32), requires_grad=True)
    assert L.norm(x32, 0).dtype == np.float32
    _, t = cr.jvp(lambda a: L.norm(a, 0), (np.ones(3),), (np.ones(3),))
    assert t == 0.0


def test_numpy_linalg_functions_route_to_chainrule():
    x = Tensor(r(3, 3) + 3 * np.eye(3), requires_grad=True)
    for f in (np.linalg.norm, np.linalg.det, np.linalg.inv, np.linalg.matrix_norm, np.linalg.vector_norm,
              np.linalg.matrix_transpose, np.linalg.trace, np.linalg.diagonal):
        out = f(x)
        assert isinstance(out, Tensor) and out.requires_grad, f
    assert np.allclose(np.linalg.solve(x, np.ones(3)).data, np.linalg.solve(x.data, np.ones(3)))
    with pytest.raises(TypeError, match="np.linalg.eig"):
        np.linalg.eig(x)
