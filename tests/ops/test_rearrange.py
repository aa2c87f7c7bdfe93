"""Array manipulation (issue 11) against NumPy, finite differences, forward mode and second order, plus the errors,
the dispatch of ``np.<fn>`` on Tensors and ``chainrule.numpy.<fn>``."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.ops import rearrange as R
from tests.ops.harness import check_case
from tests.ops.samples.rearrange import CASES

NAMES = ["roll", "rot90", "fliplr", "flipud", "append", "insert", "delete", "diff", "select", "triu", "tril", "diag",
         "diagflat", "kron", "cross", "hsplit", "vsplit", "dsplit", "row_stack", "put_along_axis"]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


@pytest.mark.parametrize("name", NAMES)
def test_public_and_in_chainrule_numpy(name):
    assert getattr(cr, name) is getattr(cnp, name)


def test_np_functions_record_on_a_tensor():
    x = cr.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    v = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    outs = [np.roll(x, 1), np.rot90(x), np.fliplr(x), np.flipud(x), np.append(x, v), np.insert(v, 1, 0.0),
            np.delete(x, 0, axis=1), np.diff(x), np.select([v > 1], [v]), np.triu(x), np.tril(x), np.diag(v),
            np.diagflat(x), np.kron(v, v), np.cross(v, v), np.hsplit(x, 2)[0], np.vsplit(x, 3)[0],
            np.dsplit(x.reshape(3, 2, 2), 2)[0], np.einsum(x, [0, 1], [1, 0])]
    with pytest.warns(DeprecationWarning):
        outs.append(np.row_stack([v, v]))  # NumPy warns before dispatching; chainrule records as vstack
    for out in outs:
        assert isinstance(out, cr.Tensor) and out.requires_grad


def test_put_along_axis_in_place_as_numpy():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = cr.tensor([[10.0], [20.0]], requires_grad=True)
    y = x * 1
    assert np.put_along_axis(y, np.array([[1], [0]]), v, axis=1) is None
    assert np.allclose(y.data, [[1.0, 10.0], [20.0, 4.0]])
    (y * y).sum().backward()
    assert np.allclose(x.grad.data, [[2.0, 0.0], [0.0, 8.0]]) and np.allclose(v.grad.data, [[20.0], [40.0]])
    with pytest.raises(RuntimeError, match="leaf"):
        np.put_along_axis(x, np.array([[0], [0]]), 0.0, axis=1)
    with pytest.raises(TypeError, match="inplace=False"):
        cr.put_along_axis(np.ones((2, 2)), np.array([[0], [0]]), v, axis=1)


def test_roll_and_rot90_copy_when_nothing_moves():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert cr.roll(x, 2) is not x and cr.rot90(cr.stack([x, x]), 4) is not x


@pytest.mark.parametrize("call, match", [
    (lambda: cr.fliplr(cr.ones(3)), "at least 2"),
    (lambda: cr.flipud(cr.tensor(1.0)), "at least 1"),
    (lambda: cr.rot90(cr.ones((2, 2)), axes=(0, 0)), "different"),
    (lambda: cr.rot90(cr.ones((2, 2)), axes=(0,)), "len"),
    (lambda: cr.diff(cr.tensor(1.0)), "at least one"),
    (lambda: cr.diff(cr.ones(3), n=-1), "non-negative"),
    (lambda: cr.select([], []), "empty"),
    (lambda: cr.select([np.array([True])], []), "same length"),
    (lambda: cr.diag(cr.ones((2, 2, 2))), "1-D or 2-D"),
    (lambda: cr.triu(cr.tensor(1.0)), "at least 1"),
    (lambda: cr.cross(cr.ones(4), cr.ones(3)), "dimension must be 2 or 3"),
    (lambda: cr.vsplit(cr.ones(4), 2), "2 or more"),
    (lambda: cr.dsplit(cr.ones((2, 2)), 2), "3 or more"),
    (lambda: cr.hsplit(cr.ones((2, 3)), 2), "equal division"),
    (lambda: cr.einsum(cr.ones(2), [52]), "not in"),
])
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError, np.exceptions.AxisError), match=match):
        call()


def test_select_needs_boolean_conditions():
    with pytest.raises(TypeError, match="boolean"):
        R.select([np.array([1])], [cr.ones(1)])


def test_float32_kept_where_numpy_keeps_it():
    x = cr.tensor(np.ones((3, 3), np.float32), requires_grad=True)
    for out in (cr.roll(x, 1), cr.triu(x), cr.diag(x[0]), cr.kron(x, x), cr.diff(x), cr.insert(x, 1, 2.0),
                cr.delete(x, 1), cr.select([x.data > 0], [x]), cr.cross(x, x), cr.rot90(x)):
        assert out.dtype == np.float32


def test_triangles_zero_inf_and_nan_outside():
    x = cr.tensor([[1.0, np.inf], [np.nan, 2.0]])
    assert np.array_equal(cr.tril(x).data, [[1.0, 0.0], [np.nan, 2.0]], equal_nan=True)
    assert np.array_equal(cr.triu(x).data, [[1.0, np.inf], [0.0, 2.0]])


def test_vmap_of_compositions():
    xs = np.random.default_rng(0).standard_normal((3, 4, 4))
    for f, ref in ((lambda x: cr.roll(x, 1, axis=0), lambda x: np.roll(x, 1, axis=0)),
                   (lambda x: cr.triu(x, 1), lambda x: np.triu(x, 1)),
                   (lambda x: cr.diag(x[0]), lambda x: np.diag(x[0])),
                   (lambda x: cr.delete(x, 2, axis=1), lambda x: np.delete(x, 2, axis=1)),
                   (lambda x: cr.insert(x, 1, x[0], axis=0), lambda x: np.insert(x, 1, x[0], axis=0))):
        out = cr.vmap(f)(cr.tensor(xs))
        assert np.allclose(out.data, np.stack([ref(x) for x in xs]))
