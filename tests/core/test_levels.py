"""Forward-mode and batching levels: a tangent outlives its level only as dead weight, never as a live tangent."""

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.forward import level, make_dual, tangent_of
from chainrule.core.state import STATE


def f(x):
    return cr.sin(x) * cr.exp(x)


def nth(n, x):
    # dⁿ/dxⁿ eˣ sin x = 2^(n/2) eˣ sin(x + nπ/4)
    return 2 ** (n / 2) * np.exp(x) * np.sin(x + n * np.pi / 4)


TRANSFORMS = {
    "grad": cr.grad,
    "jacfwd": cr.jacfwd,
    "jacrev": cr.jacrev,
    "jvp": lambda g: lambda x: cr.jvp(g, (x,), (1.0,))[1],
    "vjp": lambda g: lambda x: cr.vjp(g, x)[1](1.0)[0],
}


@pytest.mark.parametrize("order", [3, 4])
def test_every_composition_gives_the_closed_form_as_an_array(order):
    # jacfwd followed by grad or vjp used to crash: the backward pass put the closed
    # jacfwd level's batched tangents back onto its saved values.
    wrong = []
    for combo in itertools.product(TRANSFORMS, repeat=order):
        g = f
        for name in combo:
            g = TRANSFORMS[name](g)
        value = g(0.7)
        if type(value) is not np.ndarray or not np.allclose(value, nth(order, 0.7)):
            wrong.append((combo, type(value).__name__, value))
    assert wrong == []


def test_tags_are_never_reused():
    with level() as a:
        pass
    with level() as b:
        pass
    assert b > a and STATE.depth == 0 and not STATE.live


def test_a_tangent_of_a_closed_level_is_not_read_by_a_later_level():
    L = cr.jacrev(lambda x: cr.jvp(f, (x,), (1.0,))[1])(0.7)
    assert type(L) is np.ndarray and np.isclose(L, nth(2, 0.7))
    # d/dx (x · L) = L; a stale tangent on L used to add f''(0.7) · f'(0.7)-like garbage
    assert np.isclose(cr.jvp(lambda x: x * L, (1.0,), (1.0,))[1], L)


def test_a_gradient_computed_through_a_closed_level_carries_no_tangent():
    x = cr.tensor(0.7, requires_grad=True)
    y = cr.jvp(f, (x,), (cr.tensor(1.0),))[1]
    y.backward(create_graph=True)
    assert x.grad._fw is None
    assert np.isclose(cr.jvp(lambda z: z * x.grad, (1.0,), (1.0,))[1], x.grad.item())


def test_a_hessian_built_in_forward_mode_is_a_constant_afterwards():
    x0 = np.array([0.3, 1.1])
    H = cr.jacrev(cr.jacfwd(lambda x: (cr.sin(x) * x).sum()))(x0)
    expected = np.diag(2 * np.cos(x0) - x0 * np.sin(x0))
    assert type(H) is np.ndarray and np.allclose(H, expected)
    assert np.allclose(cr.jacfwd(lambda a: H @ a)(x0), expected)
    assert np.allclose(cr.hessian(lambda a: a @ H @ a)(x0), 2 * expected)


def test_values_made_inside_a_level_compute_normally_after_it():
    with level() as lv:
        x = make_dual(cr.tensor(3.0), cr.tensor(1.0), lv)
        y = x * x
        assert tangent_of(y, lv).item() == 6.0
    z = y * 2.0  # y still holds the dead tangent; pushing it would be wasted or wrong work
    assert z._fw is None and z.item() == 18.0


def test_a_graph_recorded_under_forward_mode_is_freed_without_the_garbage_collector():
    # a node that saved its output's tangent is referenced back by that tangent's graph: the cycle is
    # broken when the level closes, so dropping the results frees the graph at once
    import gc
    import weakref

    gc.collect()
    gc.disable()
    try:
        x = cr.tensor(np.ones(3), requires_grad=True)
        out, tan = cr.jvp(cr.tanh, (x,), (np.ones(3),))
        node = weakref.ref(out._node)
        del out, tan
        assert node() is None
    finally:
        gc.enable()


def test_grad_of_hvp_after_levels_forget_their_tangents():
    f = lambda z: cr.sum(cr.tanh(z) ** 3)  # noqa: E731
    x0 = np.array([0.1, 0.5, -0.3])
    g = cr.grad(lambda z: cr.hvp(f, (z,), (np.ones(3),))[1][0].sum())(x0)
    # f = sum(tanh^3) is separable, so H is diagonal and d/dx sum(H 1) is the third derivative of
    # tanh^3, elementwise: with u = tanh x, d = 1 - u^2, it is 6 d^3 - 42 u^2 d^2 + 12 u^4 d
    u = np.tanh(x0)
    d = 1 - u * u
    np.testing.assert_allclose(g, 6 * d ** 3 - 42 * u * u * d ** 2 + 12 * u ** 4 * d, rtol=1e-10)


def test_parts_of_a_graph_dropped_inside_a_level_are_freed_there():
    import weakref

    W = cr.tensor(np.ones(4), requires_grad=True)
    dropped = []

    def f(x):
        for _ in range(3):
            tmp = cr.exp(W * x)  # recorded (W requires grad), then dropped
            dropped.append(weakref.ref(tmp._node))
            del tmp
        import gc

        gc.collect()
        assert all(r() is None for r in dropped)  # the level's bookkeeping holds no strong reference
        return cr.sum(x)

    cr.jvp(f, (np.ones(4),), (np.ones(4),))


def test_numpy_functions_without_rules_accept_values_whose_tangents_are_dead():
    kept = []
    cr.jvp(lambda x: kept.append(x * 2.0) or cr.sum(x), (np.array([1.0, 1.0, 2.0]),), (np.ones(3),))
    np.testing.assert_array_equal(np.unique(kept[0]), [2.0, 4.0])  # its level has closed: nothing to drop
