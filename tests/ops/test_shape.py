"""Shape rules against NumPy, finite differences, forward mode and second order, plus hand tests of the wrappers."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import join as J
from chainrule.ops import shape as S
from tests.ops.harness import check_case
from tests.ops.samples.shape import CASES, A3, A4, M, rng


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def grad(f, x):
    x = cr.tensor(x, requires_grad=True)
    f(x).backward()
    return x.grad.data


# ---- argument forms ------------------------------------------------------------------
def test_reshape_and_transpose_argument_forms():
    t = cr.tensor(np.arange(24.0).reshape(2, 3, 4))
    for out in (
        t.reshape(4, 6),
        t.reshape((4, 6)),
        t.reshape([4, -1]),
        S.reshape(t, (4, 6)),
        S.reshape(t, shape=(4, 6)),
    ):
        assert out.shape == (4, 6)
    assert t.reshape(-1).shape == (24,)
    for out in (
        t.transpose(1, 0, 2),
        t.transpose((1, 0, 2)),
        S.transpose(t, axes=(1, 0, 2)),
        S.transpose(t, (1, 0, 2)),
    ):
        assert np.array_equal(out.data, t.data.transpose(1, 0, 2))
    assert t.transpose().shape == (4, 3, 2) and t.T.shape == (4, 3, 2)
    v = cr.tensor([1.0, 2.0])
    assert v.T is v and v.T.shape == (2,)
    assert np.reshape(t, (6, 4)).shape == (6, 4) and np.transpose(t).shape == (4, 3, 2)


def test_split_follows_numpy():
    x = np.arange(10.0)
    for ios in (5, [2, 7], [-3], [4, 2, 9], [0, 20]):
        got = [p.data for p in J.split(cr.tensor(x), ios)]
        want = np.split(x, ios)
        assert len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want))
    assert [p.shape for p in J.array_split(cr.tensor(x), 4)] == [a.shape for a in np.array_split(x, 4)]


def test_split_concatenate_round_trip_4d():
    x = cr.tensor(A4, requires_grad=True)
    for axis in range(-4, 4):
        parts = J.split(x, [1, 2] if A4.shape[axis] > 2 else 2, axis=axis)
        back = J.concatenate(parts, axis=axis)
        assert np.array_equal(back.data, A4)
        w = rng.standard_normal(A4.shape)
        (back * cr.tensor(w)).sum().backward()
        assert np.allclose(x.grad.data, w)
        x.grad = None
    parts = J.array_split(x, 3, axis=2)
    assert np.array_equal(J.stack(parts[1:], axis=0).data, np.stack(np.array_split(A4, 3, axis=2)[1:]))


def test_gradients_by_hand():
    assert np.allclose(
        grad(lambda x: (S.repeat(x, [2, 0, 3]) * cr.tensor([1.0, 2, 3, 4, 5])).sum(), [1.0, 1, 1]), [3, 0, 12]
    )
    assert np.allclose(grad(lambda x: (J.pad(x, 1) * cr.tensor(np.arange(4.0))).sum(), [1.0, 1.0]), [1, 2])
    assert np.allclose(grad(lambda x: J.pad(x, (2, 1), mode="edge").sum(), [5.0, 6.0, 7.0]), [3, 1, 2])
    assert np.allclose(grad(lambda x: S.tile(x, 3).sum(), [1.0, 2.0]), [3, 3])
    assert np.allclose(grad(lambda x: (S.flip(x) * cr.tensor([1.0, 2.0, 3.0])).sum(), [0.0, 0.0, 0.0]), [3, 2, 1])


def test_float32_is_preserved():
    x = cr.tensor(A3.astype(np.float32), requires_grad=True)
    outs = [
        S.reshape(x, (6, 4)),
        x.T,
        S.expand_dims(x, 0),
        S.squeeze(S.expand_dims(x, 1), 1),
        J.concatenate([x, x], axis=1),
        J.stack([x, x]),
        J.split(x, 2, axis=-1)[1],
        J.pad(x, 1, mode="reflect"),
        S.flip(x),
        S.repeat(x, [1, 2, 3], axis=1),
        S.tile(x, 2),
        S.broadcast_to(x, (2, 2, 3, 4)),
        S.ravel(x),
        S.moveaxis(x, 0, 2),
    ]
    for out in outs:
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None


# ---- errors name the operation, the axis and every shape ---------------------------------
def test_error_messages():
    x = cr.ones((2, 3))
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\) is not a permutation .* shape \(2, 3\)"):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match=r"transpose: axes \(0,\) is not a permutation"):
        S.transpose(x, (0,))
    with pytest.raises(ValueError, match=r"squeeze: cannot squeeze axis 1 of an array of shape \(2, 3\)"):
        S.squeeze(x, 1)
    with pytest.raises(np.exceptions.AxisError, match=r"expand_dims: axis 3 is out of bounds .* \(2, 3\)"):
        S.expand_dims(x, 3)
    with pytest.raises(
        ValueError, match=r"concatenate: .*except along axis 1, got shapes \(2, 3\), \(3, 3\), \(2, 1\)"
    ):
        J.concatenate([x, cr.ones((3, 3)), cr.ones((2, 1))], axis=1)
    with pytest.raises(ValueError, match=r"concatenate: .*got shapes \(2, 3\), \(3,\)"):
        J.concatenate([x, cr.ones(3)])
    with pytest.raises(ValueError, match="concatenate: zero-dimensional"):
        J.concatenate([cr.tensor(1.0), cr.tensor(2.0)])
    with pytest.raises(np.exceptions.AxisError, match=r"concatenate: axis 2 .*\(2, 3\)"):
        J.concatenate([x, x], axis=2)
    with pytest.raises(
        ValueError, match=r"stack: all input arrays must have the same shape, got shapes \(2, 3\), \(3, 2\)"
    ):
        J.stack([x, x.T])
    with pytest.raises(
        ValueError, match=r"split: array split does not result in an equal division: axis 1 of shape \(2, 3\)"
    ):
        J.split(x, 2, axis=1)
    with pytest.raises(NotImplementedError, match="pad: mode 'median' is not supported"):
        J.pad(x, 1, mode="median")
    with pytest.raises(ValueError, match=r"pad: cannot extend an empty axis in mode 'reflect' \(shape \(0, 3\)\)"):
        J.pad(cr.ones((0, 3)), 1, mode="reflect")
    with pytest.raises(ValueError, match=r"pad: pad_width .* does not fit an array of shape \(2, 3\)"):
        J.pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match=r"repeat: repeats has 2 entries but axis 1 of shape \(2, 3\)"):
        S.repeat(x, [1, 2], axis=1)
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(np.exceptions.AxisError, match=r"swapaxes: axis -3 .*\(2, 3\)"):
        x.swapaxes(0, -3)
    with pytest.raises(ValueError, match="broadcast_to: cannot broadcast shape"):
        S.broadcast_to(x, (3, 3))


def test_pad_wide_borders_follow_numpy():
    x = np.arange(3.0)
    for mode in ("reflect", "symmetric", "wrap", "edge"):
        for width in ((7, 0), (0, 11), (10, 10)):
            np.testing.assert_array_equal(J.pad(cr.tensor(x), width, mode=mode).data, np.pad(x, width, mode=mode))
    # the gradient counts the copies: reflect of [a, b, c] by 4 on the left is c b | a b c
    g = grad(lambda t: J.pad(t, (4, 0), mode="reflect").sum(), x)
    np.testing.assert_array_equal(g, np.bincount(np.pad(np.arange(3), (4, 0), mode="reflect")))


def test_stacking_helpers_and_their_errors():
    x = cr.tensor(M, requires_grad=True)
    J.vstack([x, x[0]]).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0], [2.0] * 4)
    with pytest.raises(TypeError, match="hstack: .*sequence"):
        J.hstack(x)
    with pytest.raises(ValueError, match="vstack: need at least one array"):
        J.vstack([])
    with pytest.raises(TypeError, match="out="):
        J.concatenate([x, x], out=np.empty((6, 4)))
    with pytest.raises(TypeError, match="cannot cast"):
        J.concatenate([x, x], dtype=np.int64)
    assert J.stack([x, x], dtype=np.float32).dtype == np.float32
