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
from tests.ops.harness import check_case
from tests.ops.samples.linalg import CASES, r, spd


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
def test_singular_value_norms_are_numpys(ord):  # their derivatives: tests/ops/samples/decompositions.py
    a = r(2, 3, 4)
    assert np.allclose(L.norm(a, ord=ord, axis=(0, 2)).data, np.linalg.norm(a, ord=ord, axis=(0, 2)))


def test_einsum_sublists_hold_integers():
    a = r(2)
    assert np.allclose(C.einsum(a, [0], [0]).data, np.einsum(a, [0], [0]))
    with pytest.raises(TypeError, match="einsum"):
        C.einsum(a, ["i"], [0])


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
    w, v = np.linalg.eig(x)  # the decompositions too (tests/ops/test_decompositions.py)
    assert v.requires_grad and np.allclose(np.sort(w.data), np.sort(np.linalg.eigvals(x.data)))
