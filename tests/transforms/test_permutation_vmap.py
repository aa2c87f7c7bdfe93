"""cr.random.permutation of an int, an array or a Tensor, alone and inside vmap (torch.func's randomness)."""

import numpy as np
import pytest

import chainrule as cr

X = np.arange(16 * 6, dtype=np.float64).reshape(16, 6)


def is_permutation_of(rows, base):
    return all(sorted(r) == sorted(b) for r, b in zip(rows.tolist(), base.tolist()))


RANGE = np.broadcast_to(np.arange(6.0), X.shape)
DRAWS = {"of n": (lambda r: cr.random.permutation(6) + 0 * r[0], RANGE), "of a tensor": (cr.random.permutation, X),
         "as an index": (lambda r: r[cr.random.permutation(6)], X)}


@pytest.mark.parametrize("name", list(DRAWS))
def test_randomness_different_same_error(name):
    draw, ref = DRAWS[name]
    x = cr.tensor(X)
    rows = cr.vmap(draw)(x).data  # "different", the default
    assert is_permutation_of(rows, ref)
    order = np.argsort(rows, axis=1)
    assert len({tuple(o) for o in order}) > 8  # 16 independent orders of 6 (720 possible)
    rows = cr.vmap(draw, randomness="same")(x).data
    assert is_permutation_of(rows, ref)
    assert len({tuple(o) for o in np.argsort(rows, axis=1)}) == 1  # one order shared by the batch
    with pytest.raises(RuntimeError, match="permutation: a random draw inside vmap\\(randomness='error'\\)"):
        cr.vmap(draw, randomness="error")(x)


def test_permuting_a_tensor_is_the_gather_of_the_drawn_order_and_differentiates():
    x = cr.tensor(X)
    cr.random.seed(5)
    got = cr.vmap(cr.random.permutation)(x).data
    cr.random.seed(5)
    order = cr.vmap(lambda r: cr.random.permutation(6))(x).data  # the same stream: the same orders
    np.testing.assert_array_equal(got, np.take_along_axis(X, order, axis=1))
    w = np.arange(1.0, 7.0)
    cr.random.seed(5)
    g = cr.vmap(cr.grad(lambda r: (cr.random.permutation(r) * cr.tensor(w)).sum()))(x).data
    want = np.zeros_like(X)
    np.put_along_axis(want, order, np.broadcast_to(w, X.shape), axis=1)  # d/dr_j = w at j's new place
    np.testing.assert_array_equal(g, want)


def test_outside_vmap_follows_numpys_stream_and_keeps_the_graph():
    a = np.arange(20).reshape(10, 2)
    cr.random.seed(3)
    got = cr.random.permutation(a)
    np.testing.assert_array_equal(got.data, np.random.default_rng(3).permutation(a))
    cr.random.seed(3)
    np.testing.assert_array_equal(cr.random.permutation(10).data, np.random.default_rng(3).permutation(10))
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    cr.random.seed(1)
    y = cr.random.permutation(x)
    (y * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    order = np.random.default_rng(1).permutation(3)
    want = np.zeros(3)
    want[order] = [1.0, 10.0, 100.0]
    np.testing.assert_array_equal(x.grad.data, want)  # not a silent zero: the permutation is on the graph
    with pytest.raises(np.exceptions.AxisError, match="dimension 0"):
        cr.random.permutation(np.array(2.0))


def test_nested_vmap_levels_draw_independently_and_repeat_with_the_seed():
    x = cr.tensor(np.zeros((3, 4, 5)))
    cr.random.seed(2)
    a = cr.vmap(cr.vmap(lambda r: cr.random.permutation(5) + r))(x).data
    cr.random.seed(2)
    b = cr.vmap(cr.vmap(lambda r: cr.random.permutation(5) + r))(x).data
    np.testing.assert_array_equal(a, b)
    assert len({tuple(r) for r in a.reshape(12, 5)}) > 6
    # the outer level shares, the inner one differs: the same 4 orders in every outer example
    c = cr.vmap(cr.vmap(lambda r: r[cr.random.permutation(5)] + cr.tensor(np.arange(5.0))[cr.random.permutation(5)]),
                randomness="same")(x).data
    assert (c == c[:1]).all() and len({tuple(r) for r in c[0]}) > 1
