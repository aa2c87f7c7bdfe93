"""take_along_axis / put_along_axis inside vmap with per-example (batched) indices, against Python loops."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.core.batching as batching
import chainrule.core.batching_rules as batching_rules
import chainrule.ops.assign as assign

rng = np.random.default_rng(0)
B = 4
X = rng.standard_normal((B, 5, 3))


@pytest.fixture(autouse=True)
def no_fallback(monkeypatch):
    """Every case here must batch in one gather: the per-example fallback is made to fail."""

    def refuse(prim, *args, **kw):
        raise AssertionError(f"{prim.name} fell back to a loop over the batch")

    for module in (batching, batching_rules, assign):
        monkeypatch.setattr(module, "fallback", refuse)


def take(x, i, axis):
    return cr.numpy.take_along_axis(x, i, axis=axis)


# (index shape per example, axis): negative axis, negative indices, index axes of 1 broadcast against x
CASES = [((2, 3), 0), ((5, 4), 1), ((5, 2), -1), ((1, 3), -2), ((2, 1), 0), ((5, 1), 1)]


def indices(shape, axis):
    n = X.shape[1:][axis]
    return rng.integers(-n, n, (B,) + shape)


@pytest.mark.parametrize("ishape, axis", CASES)
def test_take_along_axis_both_batched_matches_a_loop(ishape, axis):
    idx = indices(ishape, axis)
    got = cr.vmap(lambda x, i: take(x, i, axis))(cr.tensor(X), cr.tensor(idx))
    want = np.stack([np.take_along_axis(X[b], idx[b], axis=axis) for b in range(B)])
    np.testing.assert_array_equal(got.data, want)


@pytest.mark.parametrize("ishape, axis", CASES)
def test_take_along_axis_only_indices_batched(ishape, axis):
    idx = indices(ishape, axis)
    x = cr.tensor(X[0])
    got = cr.vmap(lambda i: take(x, i, axis))(cr.tensor(idx))
    want = np.stack([np.take_along_axis(X[0], idx[b], axis=axis) for b in range(B)])
    np.testing.assert_array_equal(got.data, want)
    got = cr.vmap(take, in_axes=(None, 0, None))(x, cr.tensor(idx), axis)
    np.testing.assert_array_equal(got.data, want)


def test_broadcasting_x_against_the_index_and_batch_axes_elsewhere():
    x = rng.standard_normal((B, 1, 3))  # x's axis of 1 stretched to the index's 4
    idx = rng.integers(0, 3, (4, 2, B))  # batch on the last axis
    got = cr.vmap(lambda x, i: take(x, i, 1), in_axes=(0, 2))(cr.tensor(x), cr.tensor(idx))
    want = np.stack([np.take_along_axis(x[b], idx[..., b], axis=1) for b in range(B)])
    np.testing.assert_array_equal(got.data, want)
    flat = rng.integers(-15, 15, (B, 6))
    got = cr.vmap(lambda x, i: take(x, i, None))(cr.tensor(X), cr.tensor(flat))
    np.testing.assert_array_equal(got.data, np.stack([np.take_along_axis(X[b].ravel(), flat[b], None)
                                                      for b in range(B)]))


def loss(x, i, axis):
    return (take(cr.sin(x), i, axis) ** 2).sum()


@pytest.mark.parametrize("ishape, axis", CASES)
def test_per_example_gradients_match_a_loop(ishape, axis):
    idx = indices(ishape, axis)
    got = cr.vmap(cr.grad(loss), in_axes=(0, 0, None))(cr.tensor(X), cr.tensor(idx), axis)
    want = np.stack([cr.grad(loss)(cr.tensor(X[b]), cr.tensor(idx[b]), axis).data for b in range(B)])
    np.testing.assert_allclose(got.data, want, rtol=1e-12)
    # x shared: each example's gradient with respect to the same x
    got = cr.vmap(cr.grad(loss), in_axes=(None, 0, None))(cr.tensor(X[1]), cr.tensor(idx), axis)
    want = np.stack([cr.grad(loss)(cr.tensor(X[1]), cr.tensor(idx[b]), axis).data for b in range(B)])
    np.testing.assert_allclose(got.data, want, rtol=1e-12)


def test_gradient_values_by_hand_repeated_indices_accumulate():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    idx = cr.tensor(np.array([[[0, 0, 1]], [[1, 1, 1]]]))  # per example (1, 3) along axis 0
    g = cr.vmap(cr.grad(lambda x, i: take(x, i, 0).sum()), in_axes=(None, 0))(x, idx)
    np.testing.assert_array_equal(g.data, [[[1, 1, 0], [0, 0, 1]], [[0, 0, 0], [1, 1, 1]]])
    idx = cr.tensor(np.array([[[0], [0]], [[2], [2]]]))  # the same entry twice in one example: 2
    g = cr.vmap(cr.grad(lambda x, i: take(x, i, 1).sum()), in_axes=(None, 0))(x, idx)
    np.testing.assert_array_equal(g.data, [[[1, 0, 0], [1, 0, 0]], [[0, 0, 1], [0, 0, 1]]])


def test_jacobians_and_nested_vmap():
    idx = indices((2, 3), 0)
    jr = cr.vmap(cr.jacrev(lambda x, i: take(x, i, 0)))(cr.tensor(X), cr.tensor(idx))
    jf = cr.vmap(cr.jacfwd(lambda x, i: take(x, i, 0)))(cr.tensor(X), cr.tensor(idx))
    want = np.stack([cr.jacrev(take)(cr.tensor(X[b]), idx[b], 0).data for b in range(B)])
    np.testing.assert_array_equal(jr.data, want)
    np.testing.assert_array_equal(jf.data, want)
    idx2 = rng.integers(0, 5, (3, B, 2, 3))  # outer batch 3, inner batch B, both on the indices
    for in_x in (None, 0):
        xs = cr.tensor(X) if in_x == 0 else cr.tensor(X[0])
        got = cr.vmap(cr.vmap(lambda x, i: take(x, i, 0), in_axes=(in_x, 0)), in_axes=(None, 0))(xs, cr.tensor(idx2))
        want = np.stack([np.stack([np.take_along_axis(X[b] if in_x == 0 else X[0], idx2[o, b], 0)
                                   for b in range(B)]) for o in range(3)])
        np.testing.assert_array_equal(got.data, want)
    # x batched at the outer level only, the index at the inner one
    idx3 = rng.integers(0, 5, (B, 2, 3))
    got = cr.vmap(lambda x: cr.vmap(lambda i: take(x, i, 0))(cr.tensor(idx3)))(cr.tensor(X))
    want = np.stack([np.stack([np.take_along_axis(X[o], idx3[b], 0) for b in range(B)]) for o in range(B)])
    np.testing.assert_array_equal(got.data, want)


def test_batched_float_indices_are_refused():
    with pytest.raises(IndexError, match="take_along_axis: indices must be integers"):
        cr.vmap(lambda x, i: take(x, i, 0))(cr.tensor(X), cr.tensor(np.zeros((B, 2, 3))))
    with pytest.raises(ValueError, match=r"indices of shape \(2, 4\) do not broadcast against an array of shape"):
        cr.vmap(lambda x, i: take(x, i, 0))(cr.tensor(X), cr.tensor(np.zeros((B, 2, 4), int)))


def put(x, i, v, axis):
    x = x.copy()
    np.put_along_axis(x, i, v, axis)
    return x


@pytest.mark.parametrize("ishape, axis", [((2, 3), 0), ((5, 1), -1), ((5, 2), 1)])
def test_put_along_axis_batched_indices(ishape, axis):
    idx = indices(ishape, axis)
    v = rng.standard_normal((B,) + ishape)
    got = cr.vmap(lambda x, i, v: cr.put_along_axis(x, i, v, axis=axis, inplace=False))(
        cr.tensor(X), cr.tensor(idx), cr.tensor(v))
    np.testing.assert_array_equal(got.data, np.stack([put(X[b], idx[b], v[b], axis) for b in range(B)]))
    got = cr.vmap(lambda i: cr.put_along_axis(cr.tensor(X[0]), i, 2.5, axis=axis, inplace=False))(cr.tensor(idx))
    np.testing.assert_array_equal(got.data, np.stack([put(X[0], idx[b], 2.5, axis) for b in range(B)]))

    def written(x, i, v):
        y = x * 1
        cr.put_along_axis(y, i, v, axis=axis)  # in place, as NumPy
        return (cr.sin(y) * y).sum()

    vb = v[:, :1] if ishape[0] > 1 else v  # a value broadcast across the index's rows
    got = cr.vmap(cr.grad(written, argnums=(0, 2)))(cr.tensor(X), cr.tensor(idx), cr.tensor(vb))
    for b in range(B):
        want = cr.grad(written, argnums=(0, 2))(cr.tensor(X[b]), cr.tensor(idx[b]), cr.tensor(vb[b]))
        np.testing.assert_allclose(got[0].data[b], want[0].data, rtol=1e-12)
        np.testing.assert_allclose(got[1].data[b], want[1].data, rtol=1e-12)


def test_put_along_axis_flat_and_errors():
    flat = rng.integers(-15, 15, (B, 4))
    got = cr.vmap(lambda x, i: cr.put_along_axis(x, i, cr.tensor(7.0), axis=None, inplace=False))(
        cr.tensor(X), cr.tensor(flat))
    np.testing.assert_array_equal(got.data, np.stack([put(X[b], flat[b], 7.0, None) for b in range(B)]))
    with pytest.raises(ValueError, match=r"put_along_axis: cannot write a value of shape \(4,\)"):
        cr.vmap(lambda x, i: cr.put_along_axis(x, i, cr.zeros(4), axis=0, inplace=False))(
            cr.tensor(X), cr.tensor(indices((2, 3), 0)))
    with pytest.raises(ValueError, match="is not batched"):  # torch.func: an unbatched Tensor cannot hold a batch
        y = cr.tensor(X[0])
        cr.vmap(lambda i: cr.put_along_axis(y, i, 0.0, axis=0))(cr.tensor(indices((2, 3), 0)))
