"""Sample cases of the indexing primitives, read by tests/ops/test_indexing.py, the vmap tests and the coverage test."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.ops.gather import take, take_along_axis
from chainrule.ops.indexing import getitem, scatter_add
from tests.ops.harness import Case


rng = np.random.default_rng(0)
A1 = rng.standard_normal(6)
A2 = rng.standard_normal((3, 4))
A3 = rng.standard_normal((2, 3, 4))
MASK2 = np.array([[True, False, True, False], [False, False, False, True], [True, True, False, False]])


def G(index, label):
    """A getitem case over a closed-over static index."""
    return dict(name="getitem", fn=lambda x: getitem(x, index), ref=lambda x: x[index], label=label)


def gi(index, arr, label):
    return Case(args=(arr,), **G(index, label))


CASES = [
    # ---- basic indexing
    gi(2, A1, "int"),
    gi(-1, A1, "negative int"),
    gi(1, A2, "row"),
    gi((-1, 2), A2, "0-d result"),
    gi((), np.array(1.5), "0-d input, empty tuple"),
    gi(None, np.array(1.5), "0-d input, None"),
    gi(slice(1, 5, 2), A1, "slice with step"),
    gi(slice(None, None, -1), A1, "reversed"),
    gi(slice(5, 0, -2), A1, "negative step"),
    gi((slice(None, None, 2), slice(1, None)), A2, "2-D slices"),
    gi((None, slice(None), None), A2, "newaxis"),
    gi((Ellipsis, 1), A3, "ellipsis then int"),
    gi((0, Ellipsis), A3, "int then ellipsis"),
    gi((Ellipsis, None, slice(None, None, -1)), A3, "ellipsis, newaxis, reversed"),
    # ---- advanced indexing
    gi([0, 0, 1], A1, "repeated ints"),
    gi(np.array([[0, 1], [2, 2]]), A2, "2-D int array, rows"),
    gi(([[0], [2]], [1, 1, 3]), A2, "broadcast int arrays"),
    gi(([[0, 2], [2, 2]], [[1, 3], [1, 1]]), A2, "2-D pairs with repeats"),
    gi(MASK2, A2, "boolean mask"),
    gi(np.array([True, False, True]), A2, "row mask"),
    gi((slice(None), np.array([False, True, True, False])), A2, "column mask"),
    gi((slice(None), [1, 1, 0]), A2, "slice then int array"),
    gi((slice(1, None), [0, 2, 2]), A2, "sliced rows, int columns"),
    gi(([0, 1], slice(None), [2, 2]), A3, "separated advanced: axes go first"),
    gi((0, slice(None), [1, 2]), A3, "int and array separated by a slice"),
    gi((slice(None), [0, 2], [1, 1]), A3, "adjacent advanced in the middle"),
    gi(([1, 1, 0], Ellipsis), A3, "rows with short repeats"),
    gi(([1, 0, 0, 1, 1, 1, 0, 1, 1], Ellipsis), A3, "rows with long repeats"),
    gi(([1, 0], Ellipsis), A3, "distinct rows (assignment path)"),
    gi(([[1, 0], [1, 1]], None), A2, "advanced then newaxis"),
    gi((Ellipsis, [3, 0, 3]), A3, "last axis gather"),
    gi(([], slice(None)), A2, "empty int index"),
    gi(np.zeros((3, 4), bool), A2, "all-false mask"),
    gi(True, A2, "0-d boolean"),
    gi(np.array(1), A2, "0-d integer array"),
    Case("getitem", lambda x: getitem(x, cr.tensor([2, 0, 2])), (A1,), lambda x: x[[2, 0, 2]], "Tensor index"),
    Case("getitem", lambda x: getitem(x, cr.tensor(MASK2)), (A2,), lambda x: x[MASK2], "boolean Tensor index"),
    Case("getitem", lambda x: x[1:, [0, 0]], (A2,), lambda x: x[1:, [0, 0]], "operator syntax"),
    # ---- take and take_along_axis (composites of getitem)
    Case("getitem", lambda x: take(x, [0, 5, 5]), (A2,), lambda x: np.take(x, [0, 5, 5]), "take flat"),
    Case("getitem", lambda x: take(x, [[1, 0]], axis=1), (A2,), lambda x: np.take(x, [[1, 0]], axis=1), "take axis=1"),
    Case("getitem", lambda x: take(x, -1, axis=0), (A2,), lambda x: np.take(x, -1, axis=0), "take scalar"),
    Case("getitem", lambda x: take_along_axis(x, np.array([[3], [0], [3]]), axis=1), (A2,),
         lambda x: np.take_along_axis(x, np.array([[3], [0], [3]]), axis=1), "take_along_axis labels"),
    Case("getitem", lambda x: take_along_axis(x, np.array([[2, 2, 0, 1]]), axis=0), (A2,),
         lambda x: np.take_along_axis(x, np.array([[2, 2, 0, 1]]), axis=0), "take_along_axis axis 0"),
    Case("getitem", lambda x: take_along_axis(x, np.array([[[1, 1]]]), axis=-1), (A3,),
         lambda x: np.take_along_axis(x, np.array([[[1, 1]]]), axis=-1), "take_along_axis broadcast"),
    Case("getitem", lambda x: take_along_axis(x, np.array([[1], [1], [3]]), axis=1), (A2[:1],),
         lambda x: np.take_along_axis(x, np.array([[1], [1], [3]]), axis=1), "take_along_axis stretched rows"),
    Case("getitem", lambda x: take_along_axis(x, np.array([11, 0, 11]), axis=None), (A2,),
         lambda x: np.take_along_axis(x, np.array([11, 0, 11]), axis=None), "take_along_axis flat"),
    # ---- scatter_add, the transpose of getitem
    Case("scatter_add", lambda v: scatter_add(v, [0, 0, 2], (4,)), (rng.standard_normal(3),),
         lambda v: np.bincount([0, 0, 2], v, minlength=4), "repeated 1-D"),
    Case("scatter_add", lambda v: scatter_add(v, ([1, 1, 0], Ellipsis), (2, 3, 4)), (rng.standard_normal((3, 3, 4)),),
         lambda v: _add_at((2, 3, 4), ([1, 1, 0], Ellipsis), v), "repeated rows (blocks)"),
    Case("scatter_add", lambda v: scatter_add(v, (slice(None), [[1], [1]]), (3, 4)), (rng.standard_normal((3, 2, 1)),),
         lambda v: _add_at((3, 4), (slice(None), [[1], [1]]), v), "columns"),
    Case("scatter_add", lambda v: scatter_add(v, (slice(1, None), 2), (3, 4)), (rng.standard_normal(2),),
         lambda v: _add_at((3, 4), (slice(1, None), 2), v), "basic"),
    Case("scatter_add", lambda v: scatter_add(v, [2, 2], (3,)), (np.array(0.5),),
         lambda v: _add_at((3,), [2, 2], np.broadcast_to(v, (2,))), "broadcast value"),
]


def _add_at(shape, index, v):
    out = np.zeros(shape)
    np.add.at(out, index, v)
    return out


# ---- index_update: t[index] = v through a function, so the write is recorded
def _write(index, square=True):
    def f(x, v):
        y = x * 1
        y[index] = v
        return y * y if square else y

    return f


def _write_ref(index):
    def ref(x, v):
        y = x.copy()
        y[index] = v
        return y * y

    return ref


def iu(index, xs, vs, label):
    return Case("index_update", _write(index), (xs, vs), _write_ref(index), label)


CASES += [
    iu(slice(1, 3), A1, rng.standard_normal(2), "slice"),
    iu(0, A1, np.array(0.3), "int, 0-d value"),
    iu([0, 2], A1, np.array(0.7), "int array, broadcast value"),
    iu([0, 0, 1], A1, rng.standard_normal(3), "repeated: last write wins"),
    iu(([1, 1, 2], [0, 0, 3]), A2, np.array(0.25), "repeated pairs, broadcast value"),
    iu((slice(None), 1), A2, rng.standard_normal(3), "column"),
    iu(MASK2, A2, rng.standard_normal(5), "boolean mask"),
    iu((Ellipsis, [0, 2]), A3, rng.standard_normal((3, 1)), "broadcast block"),
    iu(slice(0, 2), A1, rng.standard_normal((1, 2)), "value with an extra leading 1"),
    Case("index_update", lambda x, v: _write((slice(1, None), 0), square=False)(x, v) * x, (A2, rng.standard_normal(2)),
         lambda x, v: _set(x, (slice(1, None), 0), v) * x, "product with the original"),
]


def _set(x, index, v):
    y = x.copy()
    y[index] = v
    return y


def _plus_eq(x, v):
    y = x * 1
    y[0] += v  # Python: getitem, add, setitem
    return y * y


def _plus_eq_ref(x, v):
    y = x.copy()
    y[0] += v
    return y * y


CASES.append(Case("index_update", _plus_eq, (A2, rng.standard_normal(4)), _plus_eq_ref, "t[0] += v"))
