"""Sample cases of array manipulation (issue 11): roll, rot90, flips, append/insert/delete, diff, select, triangles and
diagonals, kron, cross, the splits, put_along_axis, einsum's sublist form, and more axes forms of tensordot, diagonal
and trace. Each is a composition of existing primitives, so a case is named by the primitive that carries it."""

from __future__ import annotations

import numpy as np

from chainrule.ops import contractions as C
from chainrule.ops import gather as G
from chainrule.ops import join as J
from chainrule.ops import linalg as L
from chainrule.ops import products as P
from chainrule.ops import rearrange as R
from chainrule.ops import triangular as T
from tests.ops.harness import Case

rng = np.random.default_rng(11)
S0 = np.array(0.7)
V = rng.standard_normal(6)
M = rng.standard_normal((3, 4))
Q = rng.standard_normal((4, 4))
A3 = rng.standard_normal((2, 3, 4))
V3 = rng.standard_normal((4, 3))
W3 = rng.standard_normal((4, 3))


def r(*shape):
    return rng.standard_normal(shape)


def C_(name, fn, args, ref, label="", **kw):
    return Case(name=name, fn=fn, args=args, ref=ref, label=label, **kw)


def _put(a, idx, v, axis):
    out = a.copy()
    np.put_along_axis(out, idx, v, axis)
    return out


def _put_inplace(x, v):
    y = x * 1  # a non-leaf, so the in-place write is allowed
    G.put_along_axis(y, np.array([[2], [0], [1]]), v, axis=1)
    return y


IDX = np.array([[2, 0], [1, 1], [3, 0]])  # take_along_axis/put_along_axis rows of M
Z = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])

CASES = [
    # ---- roll
    C_("concatenate", lambda x: R.roll(x, 2), (V,), lambda x: np.roll(x, 2), "roll 1-d"),
    C_("concatenate", lambda x: R.roll(x, -5), (M,), lambda x: np.roll(x, -5), "roll flattened"),
    C_("concatenate", lambda x: R.roll(x, 1, axis=-1), (A3,), lambda x: np.roll(x, 1, axis=-1), "roll axis=-1"),
    C_("concatenate", lambda x: R.roll(x, (1, -2, 3), axis=(0, 1, 0)), (A3,),
       lambda x: np.roll(x, (1, -2, 3), axis=(0, 1, 0)), "roll axes, repeated axis"),
    C_("concatenate", lambda x: np.roll(x, 7, axis=1), (M,), lambda x: np.roll(x, 7, axis=1), "np.roll, shift > n"),
    C_("flip", lambda x: R.roll(x, 4, axis=1), (M,), lambda x: np.roll(x, 4, axis=1), "roll by the length"),
    C_("flip", lambda x: R.roll(x, 3), (S0,), lambda x: np.roll(x, 3), "roll 0-d"),
    # ---- rot90, fliplr, flipud
    C_("transpose", lambda x: R.rot90(x), (M,), np.rot90, "rot90"),
    C_("transpose", lambda x: R.rot90(x, 3, axes=(2, 0)), (A3,), lambda x: np.rot90(x, 3, axes=(2, 0)),
       "rot90 k=3 axes=(2,0)"),
    C_("flip", lambda x: R.rot90(x, -2, axes=(-1, -2)), (A3,), lambda x: np.rot90(x, -2, axes=(-1, -2)),
       "rot90 k=-2 negative axes"),
    C_("flip", lambda x: np.rot90(x, 4), (M,), lambda x: np.rot90(x, 4), "np.rot90 k=4"),
    C_("flip", lambda x: R.fliplr(x), (A3,), np.fliplr, "fliplr"),
    C_("flip", lambda x: np.flipud(x), (V,), np.flipud, "np.flipud"),
    # ---- append, insert, delete
    C_("concatenate", lambda x, y: R.append(x, y), (M, V), np.append, "append flattened"),
    C_("concatenate", lambda x, y: R.append(x, y, axis=0), (M, M[:1]), lambda x, y: np.append(x, y, axis=0),
       "append axis=0"),
    C_("concatenate", lambda x, y: np.append(x, y, axis=-1), (A3, A3[..., :2]),
       lambda x, y: np.append(x, y, axis=-1), "np.append axis=-1"),
    C_("getitem", lambda x, y: R.insert(x, 2, y), (V, S0), lambda x, y: np.insert(x, 2, y), "insert scalar"),
    C_("getitem", lambda x, y: R.insert(x, [1, 1, 4], y), (V, V[:3]), lambda x, y: np.insert(x, [1, 1, 4], y),
       "insert at indices"),
    C_("getitem", lambda x, y: R.insert(x, 1, y, axis=1), (M, V[:3]), lambda x, y: np.insert(x, 1, y, axis=1),
       "insert a column"),
    C_("getitem", lambda x, y: R.insert(x, [0, 2], y, axis=-1), (M, V[:1]),
       lambda x, y: np.insert(x, [0, 2], y, axis=-1), "insert broadcast value"),
    C_("getitem", lambda x, y: np.insert(x, slice(0, 3), y, axis=0), (M, M[0]),
       lambda x, y: np.insert(x, slice(0, 3), y, axis=0), "np.insert slice"),
    C_("getitem", lambda x: R.insert(x, 1, 5.0), (M,), lambda x: np.insert(x, 1, 5.0), "insert constant, flattened"),
    C_("getitem", lambda x: R.delete(x, 1), (V,), lambda x: np.delete(x, 1), "delete"),
    C_("getitem", lambda x: R.delete(x, [0, 2], axis=-1), (M,), lambda x: np.delete(x, [0, 2], axis=-1),
       "delete columns"),
    C_("getitem", lambda x: np.delete(x, slice(None, None, 2), axis=1), (A3,),
       lambda x: np.delete(x, slice(None, None, 2), axis=1), "np.delete slice"),
    C_("getitem", lambda x: R.delete(x, [True, False, False, True, False, False]), (V,),
       lambda x: np.delete(x, [True, False, False, True, False, False]), "delete mask"),
    C_("getitem", lambda x: R.delete(x, [5, 0]), (M,), lambda x: np.delete(x, [5, 0]), "delete flattened"),
    # ---- diff
    C_("subtract", lambda x: R.diff(x), (V,), np.diff, "diff"),
    C_("subtract", lambda x: R.diff(x, n=2, axis=0), (M,), lambda x: np.diff(x, n=2, axis=0), "diff n=2 axis=0"),
    C_("subtract", lambda x: np.diff(x, 3, axis=-2), (A3,), lambda x: np.diff(x, 3, axis=-2), "np.diff n > len"),
    C_("subtract", lambda x, p: R.diff(x, prepend=p, append=1.5), (M, M[:, :1]),
       lambda x, p: np.diff(x, prepend=p, append=1.5), "diff prepend/append", f32_tol=1e-3),
    C_("subtract", lambda x, p: R.diff(x, axis=0, prepend=p), (M, S0), lambda x, p: np.diff(x, axis=0, prepend=p),
       "diff scalar prepend"),
    # ---- select, where
    C_("where", lambda x, y: R.select([Z, ~Z & (M > 0)], [x, y]), (M, M * 2),
       lambda x, y: np.select([Z, ~Z & (M > 0)], [x, y]), "select"),
    C_("where", lambda x, d: np.select([Z[0], Z[1]], [x, x * x], default=d), (M[0], S0),
       lambda x, d: np.select([Z[0], Z[1]], [x, x * x], default=d), "np.select broadcast default"),
    C_("where", lambda x: np.where(Z, x, -x), (M,), lambda x: np.where(Z, x, -x), "np.where"),
    C_("where", lambda x, y: np.where(Z[0], x, y), (M, r(3, 1)), lambda x, y: np.where(Z[0], x, y),
       "np.where broadcast"),
    # ---- triangles and diagonals
    C_("where", lambda x: T.triu(x), (M,), np.triu, "triu"),
    C_("where", lambda x: T.tril(x, -1), (Q,), lambda x: np.tril(x, -1), "tril k=-1"),
    C_("where", lambda x: np.triu(x, 2), (A3,), lambda x: np.triu(x, 2), "np.triu stacked k=2"),
    C_("where", lambda x: np.tril(x, 1), (A3,), lambda x: np.tril(x, 1), "np.tril stacked k=1"),
    C_("where", lambda x: T.triu(x), (V,), np.triu, "triu 1-d"),
    C_("pad", lambda x: T.diag(x), (V,), np.diag, "diag of a vector"),
    C_("pad", lambda x: np.diag(x, 2), (V[:3],), lambda x: np.diag(x, 2), "np.diag k=2"),
    C_("pad", lambda x: T.diag(x, -1), (V[:4],), lambda x: np.diag(x, -1), "diag k=-1"),
    C_("pad", lambda x: T.diag(x), (V[:1],), np.diag, "diag of length 1"),
    C_("diagonal", lambda x: np.diag(x, -1), (M,), lambda x: np.diag(x, -1), "np.diag of a matrix"),
    C_("pad", lambda x: T.diagflat(x), (M[:2, :2],), np.diagflat, "diagflat"),
    C_("pad", lambda x: np.diagflat(x, 1), (V[:3],), lambda x: np.diagflat(x, 1), "np.diagflat k=1"),
    C_("diagonal", lambda x: L.diagonal(x, 1, -1, 0), (A3,), lambda x: np.diagonal(x, 1, -1, 0),
       "diagonal axes (-1, 0)"),
    C_("diagonal", lambda x: np.diagonal(x, -2, 2, 1), (A3,), lambda x: np.diagonal(x, -2, 2, 1),
       "np.diagonal axes (2, 1) offset -2"),
    C_("diagonal", lambda x: L.diagonal(x, 3), (M,), lambda x: np.diagonal(x, 3), "diagonal at the corner"),
    C_("diagonal", lambda x: np.trace(x, -1, axis1=-1, axis2=-3), (A3,), lambda x: np.trace(x, -1, axis1=-1, axis2=-3),
       "np.trace negative axes"),
    C_("diagonal", lambda x: L.trace(x, 2, 2, 0), (A3,), lambda x: np.trace(x, 2, 2, 0), "trace axes (2, 0)"),
    # ---- kron, cross
    C_("multiply", lambda a, b: P.kron(a, b), (M[:2, :3], r(2, 2)), np.kron, "kron 2-d"),
    C_("multiply", lambda a, b: np.kron(a, b), (V[:3], A3), np.kron, "np.kron 1-d, 3-d"),
    C_("multiply", lambda a, b: P.kron(a, b), (S0, V[:3]), np.kron, "kron 0-d"),
    C_("stack", lambda a, b: P.cross(a, b), (V3, W3), np.cross, "cross 3-vectors"),
    C_("stack", lambda a, b: np.cross(a, b, axisa=0, axisb=-1, axisc=0), (V3.T, W3),
       lambda a, b: np.cross(a, b, axisa=0, axisb=-1, axisc=0), "np.cross axes"),
    C_("stack", lambda a, b: P.cross(a, b, axis=0), (r(3, 2, 1), r(3, 1, 2)), lambda a, b: np.cross(a, b, axis=0),
       "cross broadcast axis=0"),
    C_("stack", lambda a, b: P.cross(a, b), (V3[:, :2], W3),
       lambda a, b: np.cross(np.pad(a, ((0, 0), (0, 1))), b), "cross 2- by 3-vectors"),
    C_("stack", lambda a, b: P.cross(a, b), (V3, W3[:, :2]),
       lambda a, b: np.cross(a, np.pad(b, ((0, 0), (0, 1)))), "cross 3- by 2-vectors"),
    C_("subtract", lambda a, b: P.cross(a, b), (V3[:, :2], W3[:, :2]),
       lambda a, b: a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], "cross 2-vectors"),
    # ---- splits and stacks
    C_("crop", lambda x: J.hsplit(x, 2)[1], (M,), lambda x: np.hsplit(x, 2)[1], "hsplit"),
    C_("crop", lambda x: np.hsplit(x, [1, 4])[1], (V,), lambda x: np.hsplit(x, [1, 4])[1], "np.hsplit 1-d"),
    C_("crop", lambda x: J.vsplit(x, [2])[0] * 3, (M,), lambda x: np.vsplit(x, [2])[0] * 3, "vsplit"),
    C_("crop", lambda x: J.concatenate(np.dsplit(x, 2)[::-1], axis=2), (A3,),
       lambda x: np.concatenate(np.dsplit(x, 2)[::-1], axis=2), "np.dsplit"),
    C_("crop", lambda x: np.array_split(x, [2, 9], axis=-1)[0] + np.array_split(x, [2, 9], axis=-1)[1], (A3,),
       lambda x: np.array_split(x, [2, 9], axis=-1)[0] + np.array_split(x, [2, 9], axis=-1)[1],
       "np.array_split past the end"),
    C_("crop", lambda x: np.array_split(x, 4)[-1], (V,), lambda x: np.array_split(x, 4)[-1], "np.array_split 4"),
    C_("crop", lambda x: J.concatenate(J.array_split(x, [3, 1, -2]), axis=0), (M,),
       lambda x: np.concatenate(np.array_split(x, [3, 1, -2]), axis=0), "array_split decreasing, negative indices"),
    C_("crop", lambda x: J.array_split(x, 8)[5], (V,), lambda x: np.array_split(x, 8)[5], "array_split, more sections"),
    C_("concatenate", lambda x, y: J.row_stack((x, y)), (V, r(2, 6)),
       lambda x, y: np.vstack((x, y)), "row_stack"),
    C_("concatenate", lambda x, y: np.vstack((x, y)), (M, M[:1]), lambda x, y: np.vstack((x, y)), "np.vstack tuple"),
    C_("concatenate", lambda x, y: np.column_stack((x, y)), (M, V[:3]), lambda x, y: np.column_stack((x, y)),
       "np.column_stack 2-d and 1-d"),
    C_("concatenate", lambda x, y: np.hstack((x, y, x)), (V, V), lambda x, y: np.hstack((x, y, x)), "np.hstack tuple"),
    # ---- take and put along an axis
    C_("getitem", lambda x: np.take_along_axis(x, IDX, axis=1), (M,), lambda x: np.take_along_axis(x, IDX, axis=1),
       "np.take_along_axis repeated"),
    C_("getitem", lambda x: np.take_along_axis(x, np.array([[0, 2, 1, 0]]), axis=0), (M,),
       lambda x: np.take_along_axis(x, np.array([[0, 2, 1, 0]]), axis=0), "take_along_axis axis=0"),
    C_("index_update", lambda x, v: G.put_along_axis(x, IDX[:, :1], v, axis=1, inplace=False), (M, r(3, 1)),
       lambda x, v: _put(x, IDX[:, :1], v, 1), "put_along_axis"),
    C_("index_update", lambda x, v: G.put_along_axis(x, IDX, v, axis=-1, inplace=False), (M, S0),
       lambda x, v: _put(x, IDX, v, -1), "put_along_axis repeated, scalar"),
    C_("index_update", lambda x, v: G.put_along_axis(x, np.array([7, 1]), v, axis=None, inplace=False), (M, V[:2]),
       lambda x, v: _put(x, np.array([7, 1]), v, None), "put_along_axis axis=None"),
    C_("index_update", _put_inplace, (M, r(3, 1)), lambda x, v: _put(x, np.array([[2], [0], [1]]), v, 1),
       "put_along_axis in place"),
    # ---- einsum's sublist form, tensordot's axes forms
    C_("einsum", lambda a, b: C.einsum(a, [0, 1], b, [1, 2], [0, 2]), (M, V3), lambda a, b: a @ b, "sublists"),
    C_("einsum", lambda a, b: np.einsum(a, [0, 1], b, [1, 2]), (M, V3), lambda a, b: np.einsum(a, [0, 1], b, [1, 2]),
       "np.einsum sublists implicit"),
    C_("einsum", lambda a: C.einsum(a, [Ellipsis, 30, 30]), (r(2, 3, 3),), lambda a: np.einsum(a, [Ellipsis, 30, 30]),
       "sublist ellipsis, trace"),
    C_("einsum", lambda a, b: np.einsum(a, [Ellipsis, 0], b, [0, 51], [51, Ellipsis]), (A3, V3),
       lambda a, b: np.einsum(a, [Ellipsis, 0], b, [0, 51], [51, Ellipsis]), "np.einsum sublist ellipsis out"),
    C_("einsum", lambda a, b: np.einsum("...ij,...jk->...ik", a, b), (r(2, 3, 4), r(4, 2)),
       lambda a, b: np.einsum("...ij,...jk->...ik", a, b), "np.einsum ellipsis broadcast"),
    C_("tensordot", lambda a, b: np.tensordot(a, b, axes=(1, 0)), (M, V3), lambda a, b: np.tensordot(a, b, (1, 0)),
       "np.tensordot pair of ints"),
    C_("tensordot", lambda a, b: np.tensordot(a, b, axes=[[-1, 0], [0, -1]]), (A3, r(4, 5, 2)),
       lambda a, b: np.tensordot(a, b, [[-1, 0], [0, -1]]), "np.tensordot negative lists"),
    C_("tensordot", lambda a, b: C.tensordot(a, b, axes=np.array([[1], [1]])), (M, r(5, 4)),
       lambda a, b: np.tensordot(a, b, np.array([[1], [1]])), "tensordot array axes"),
]
