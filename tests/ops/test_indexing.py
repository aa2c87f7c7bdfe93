"""Indexing rules: getitem, scatter_add and index_update (t[idx] = v) against NumPy, plus hand tests."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.assign import setitem
from chainrule.ops.gather import take, take_along_axis
from chainrule.ops.indexing import getitem
from tests.ops.harness import check_case
from tests.ops.samples.indexing import CASES, A1, A2


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


# ---- hand tests -------------------------------------------------------------------
def test_repeated_indices_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = np.array([10.0, 20.0, 30.0])
    getitem(x, [0, 0, 1]).backward(cr.tensor(g))
    np.testing.assert_array_equal(x.grad.data, [30.0, 30.0, 0.0])


def test_embedding_rows_accumulate_and_keep_dtype():
    w = cr.tensor(np.ones((5, 3), np.float32), requires_grad=True)
    ids = np.array([[0, 4], [4, 4]])
    getitem(w, ids).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.data[:, 0], [1, 0, 0, 0, 3])


def test_take_along_axis_is_the_label_gather():
    logp = cr.tensor(np.log(np.full((4, 3), 1 / 3)), requires_grad=True)
    labels = np.array([2, 0, 2, 1])
    picked = take_along_axis(logp, labels[:, None], axis=1)
    picked.sum().backward()
    expected = np.zeros((4, 3))
    expected[np.arange(4), labels] = 1
    np.testing.assert_array_equal(logp.grad.data, expected)


@pytest.mark.parametrize("seed", range(4))
def test_scatter_paths_match_add_at(seed):
    from chainrule.ops.indexing import _normalise, _scatter_add

    r = np.random.default_rng(seed)
    shape = (7, 5, 3)
    keys = [
        r.integers(-7, 7, 40),  # rows, long runs
        r.permutation(7)[:4],  # distinct rows
        (r.integers(0, 7, (6, 2)), slice(None), r.integers(0, 3, (6, 1))),
        (slice(1, None), r.integers(0, 5, 9)),
        (Ellipsis, r.integers(0, 3, 11)),
        r.random(shape) > 0.5,
        (r.integers(0, 7, 3), None, r.integers(0, 5, 3)),
    ]
    for key in keys:
        for dtype in (np.float64, np.float32, np.complex128):
            idx = _normalise(key, shape, "test")
            g = (r.standard_normal(idx.out_shape) + (1j if dtype == np.complex128 else 0)).astype(dtype)
            expected = np.zeros(shape, dtype)
            np.add.at(expected, idx.key, g)
            got = _scatter_add(g, idx)
            assert got.dtype == dtype
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "index, match",
    [
        (1.5, "only integers"),
        (np.array([0.0, 1.0]), "integer or boolean type"),
        ([0.5], "integer or boolean type"),
        ((0, 0, 0), "too many indices .* shape \\(3, 4\\)"),
        ((Ellipsis, Ellipsis), "single ellipsis"),
        (np.array([True, False]), "boolean index of shape \\(2,\\)"),
        ((0, 7), "getitem: index 7 is out of bounds"),
        ("a", "only integers"),
    ],
)
def test_bad_index_errors(index, match):
    with pytest.raises(IndexError, match=match):
        getitem(cr.tensor(A2), index)


def test_take_errors():
    with pytest.raises(IndexError, match="take: indices must be integers"):
        take(cr.tensor(A1), [0.5])
    with pytest.raises(ValueError, match=r"take_along_axis: .* same number of dimensions.*\(3,\) and \(3, 4\)"):
        take_along_axis(cr.tensor(A2), np.array([0, 1, 2]), axis=1)
    with pytest.raises(ValueError, match=r"take_along_axis: indices of shape \(2, 1\) do not broadcast .* \(3, 4\)"):
        take_along_axis(cr.tensor(A2), np.zeros((2, 1), int), axis=1)
    with pytest.raises(np.exceptions.AxisError, match="take"):
        take(cr.tensor(A2), [0], axis=2)


# ---- setitem semantics
def test_write_into_leaf_requiring_grad_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
        x[0] = 5.0


def test_no_grad_write_into_leaf_is_in_place():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    data = w.data
    with cr.no_grad():
        w[...] = 0
        w[1] = cr.tensor(4.0)
    assert w.data is data and w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(data, [0.0, 4.0, 0.0])


def test_earlier_saved_values_stay_valid():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = (y * y).sum()  # multiply saved y's array
    y[0] = 100.0
    (z + y.sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 5.0, 7.0])


def test_augmented_assignment_changes_the_tensor_itself():
    # PyTorch's semantics: `a += 1` changes the object `a` (and so `b`, the same object),
    # recorded as a new node the Tensor is rebound to
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    b = a
    a += 1
    assert a is b
    np.testing.assert_array_equal(a.data, [2.0, 3.0])
    (a * b).sum().backward()  # d/dx (x + 1)² = 2(x + 1)
    np.testing.assert_array_equal(x.grad.data, [4.0, 6.0])


def test_augmented_assignment_keeps_values_saved_earlier():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    z = (a * a).sum()  # saves a's array
    a *= 3.0
    (z + a.sum()).backward()  # d/dx (x² + 3x) = 2x + 3
    np.testing.assert_array_equal(x.grad.data, [5.0, 7.0])


def test_in_place_update_of_a_parameter_under_no_grad():
    w = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    data = w.data
    (w * w).sum().backward()
    with cr.no_grad():
        for p in [w]:
            p -= 0.1 * p.grad
            p *= np.float64(2.0)  # NumPy's in-place casting: float32 stays float32
    assert w.data is data and w.is_leaf and w.requires_grad and w.dtype == np.float32
    np.testing.assert_allclose(w.data, [1.6, 3.2], rtol=1e-6)
    lin = cr.nn.Linear(2, 1)
    before = lin.weight.data.copy()
    with cr.no_grad():
        lin.weight -= 1.0
    np.testing.assert_array_equal(lin.weight.data, before - 1.0)  # the module sees the update


@pytest.mark.parametrize(
    "op, symbol",
    [("__iadd__", "+="), ("__isub__", "-="), ("__imul__", "*="), ("__itruediv__", "/="), ("__ipow__", "**=")],
)
def test_in_place_operators_differentiate_like_their_out_of_place_forms(op, symbol):
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    v = cr.tensor([2.0, 3.0], requires_grad=True)
    a = x * 1
    getattr(a, op)(v)
    a.sum().backward()
    gx, gv = x.grad.data, v.grad.data
    x2 = cr.tensor([0.5, 1.5], requires_grad=True)
    v2 = cr.tensor([2.0, 3.0], requires_grad=True)
    getattr(x2 * 1, op.replace("__i", "__"))(v2).sum().backward()
    np.testing.assert_allclose(gx, x2.grad.data)
    np.testing.assert_allclose(gv, v2.grad.data)


def test_in_place_operator_errors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\+=: a leaf Tensor that requires grad.*no_grad"):
        x += 1
    i = cr.tensor([1, 2])
    i += 1
    np.testing.assert_array_equal(i.data, [2, 3])
    with pytest.raises(TypeError, match=r"\+=: Cannot cast.*int64"):
        i += 1.5
    with pytest.raises(ValueError, match=r"\+=.*\(3,\)"):
        t = cr.tensor(np.ones(3))
        t += np.ones((2, 3))
    y = x * 1
    with pytest.raises(ValueError, match=r"\+=: the result has shape \(2, 2\).*\(2,\)"):
        y += cr.ones((2, 2))


def test_in_place_matmul_and_inside_vmap():
    A = cr.tensor(np.eye(2) * 2, requires_grad=True)
    v = cr.tensor([[1.0, 1.0]]) * 1
    v @= A
    v.sum().backward()
    np.testing.assert_array_equal(v.data, [[2.0, 2.0]])
    np.testing.assert_array_equal(A.grad.data, np.ones((2, 2)))

    def f(r):
        r = r * 1
        r += 1
        return r

    np.testing.assert_array_equal(cr.vmap(f)(np.ones((3, 2))), 2 * np.ones((3, 2)))


@pytest.mark.parametrize(
    "write",
    [
        lambda w, c: w.__setitem__(Ellipsis, 0.0),  # a leaf, under no_grad
        lambda w, c: c.__setitem__(0, 100.0),  # a plain Tensor the graph saved
        lambda w, c: c.__isub__(1.0),
        lambda w, c: w.detach().__setitem__(0, 7.0),  # an alias shares the array
        lambda w, c: c[0:1].__setitem__(0, 5.0),  # a basic slice is a view of the same memory
    ],
)
def test_backward_refuses_values_written_in_place_after_they_were_saved(write):
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    loss = (w * c * w).sum()
    with cr.no_grad():
        write(w, c)
    with pytest.raises(RuntimeError, match="'multiply' saved for the backward pass.*changed in place"):
        loss.backward()


def test_writes_before_the_graph_or_after_backward_are_fine():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        w[0] = 3.0
    loss = (w * w).sum()
    loss.backward()
    with cr.no_grad():
        w -= 0.5 * w.grad  # an optimiser step after backward, as in every training loop
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    (w * w + w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [6.0 + 1.0, 4.0 + 1.0])  # accumulated: 2w + (2w' + 1)


def test_item_plus_equals():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = cr.tensor(5.0, requires_grad=True)
    y = x * 1
    y[1] += v * v
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.data, [1.0, 27.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 54.0, 6.0])
    assert v.grad.item() == 54.0 * 2 * 5.0


def test_repeated_write_gradient_goes_to_the_kept_write():
    x = cr.tensor([0.0, 0.0], requires_grad=True)
    v = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y[[0, 0]] = v
    assert y.data[0] == 2.0  # NumPy keeps the last write
    (y * cr.tensor([3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(v.grad.data, [0.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 4.0])


def test_writing_a_tracked_value_into_a_plain_tensor_joins_the_graph():
    buf = cr.zeros(3)
    v = cr.tensor(2.0, requires_grad=True)
    buf[1:] = v
    assert not buf.is_leaf
    (buf * buf).sum().backward()
    assert v.grad.item() == 8.0


def test_plain_write_is_numpy_assignment():
    t = cr.tensor([1, 2, 3])
    data = t.data
    t[0:2] = np.array([1.7, 2.5])
    assert t.data is data and t.dtype == np.int64
    np.testing.assert_array_equal(t.data, [1, 2, 3])
    t[[2, 2]] = 9.9
    np.testing.assert_array_equal(t.data, [1, 2, 9])
    f = cr.tensor(np.zeros(3, np.float32))
    f[1] = 0.1  # a float64 value follows NumPy: cast into float32
    assert f.dtype == np.float32


def test_write_into_float32_keeps_dtypes():
    x = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    v = cr.tensor(np.array([2.0, 3.0]), requires_grad=True)  # float64
    y = x * 1
    y[1:] = v
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and v.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [1, 0, 0])


def test_setitem_shape_errors():
    y = cr.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    with pytest.raises(ValueError, match=r"setitem: cannot write a value of shape \(3,\) .* \(2,\)"):
        y[1:] = cr.tensor([1.0, 2.0, 3.0])
    t = cr.zeros(3)
    with pytest.raises(ValueError, match="setitem:"):
        t[1:] = np.ones(3)
    with pytest.raises(IndexError, match="setitem: only integers"):
        t[0.5] = 1.0


def test_setitem_forward_mode():
    from chainrule.core.forward import level, make_dual, tangent_of

    with level() as lv:
        x = make_dual(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([1.0, 1.0, 1.0]), lv)
        v = make_dual(cr.tensor(5.0), cr.tensor(10.0), lv)
        y = x * 2
        y[1] = v
        np.testing.assert_array_equal(tangent_of(y, lv).data, [2.0, 10.0, 2.0])
        with cr.no_grad():
            y[0] = v * v
        np.testing.assert_array_equal(tangent_of(y, lv).data, [100.0, 10.0, 2.0])


def test_setitem_entry_point():
    t = cr.zeros(2)
    setitem(t, 1, 3.0)
    np.testing.assert_array_equal(t.data, [0.0, 3.0])


def test_in_place_writes_inside_vmap():
    def batched_target(x):
        y = x * 0
        y[1] = x[0]
        y += x
        return y

    np.testing.assert_array_equal(cr.vmap(batched_target)(np.arange(6.0).reshape(2, 3)), [[0, 1, 2], [3, 7, 5]])

    def unbatched_target_add(x):
        acc = cr.zeros(3)
        acc += x
        return acc

    def unbatched_target_write(x):
        acc = cr.zeros(3)
        acc[1] = x[0]
        return acc

    with pytest.raises(ValueError, match=r"\+=: inside vmap, this Tensor is not batched"):
        cr.vmap(unbatched_target_add)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="setitem: inside vmap, this Tensor is not batched"):
        cr.vmap(unbatched_target_write)(np.ones((2, 3)))


def test_an_index_array_changed_after_the_forward_pass_does_not_change_the_gradient():
    x = cr.tensor(np.arange(4.0), requires_grad=True)
    idx = np.array([0, 1])
    y = (x[idx] * cr.tensor([1.0, 10.0])).sum()
    idx[0] = 3
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 10.0, 0.0, 0.0])
    a = cr.tensor(np.arange(3.0), requires_grad=True)
    i = cr.tensor([[0], [2]]).reshape(-1)
    z = (take_along_axis(a, i, axis=0) * cr.tensor([1.0, 5.0])).sum()
    i[0] = 1
    z.backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 5.0])


def test_an_inner_vmap_cannot_write_its_batch_into_an_outer_batched_value():
    def outer(x):
        y = x * 1.0

        def inner(z):
            y[0] = z[0]
            return z.sum()

        cr.vmap(inner)(np.ones((4, 3)))
        return cr.sum(y)

    with pytest.raises(ValueError, match="setitem: inside vmap, this Tensor is not batched \\(at this vmap level\\)"):
        cr.vmap(outer)(np.ones((2, 3)))
