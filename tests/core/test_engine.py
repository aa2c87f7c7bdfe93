"""The engine by hand: the notes' worked examples, fan-out, no_grad, deep graphs, freed graphs, memory."""

import gc
import math
import threading
import weakref

import numpy as np
import pytest

import chainrule as cr


def test_seed_example_x_plus_y_times_z():
    # f(x, y, z) = (x + y) z at (-2, 5, -4): ∂f/∂x = -4, ∂f/∂y = -4, ∂f/∂z = 3
    x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_seed_example_x1x2_plus_sin_x2():
    x1, x2 = cr.tensor(2.0, requires_grad=True), cr.tensor(5.0, requires_grad=True)
    f = x1 * x2 + cr.sin(x2)
    f.backward()
    assert math.isclose(f.item(), 10 + math.sin(5))
    assert math.isclose(x1.grad.item(), 5.0)
    assert math.isclose(x2.grad.item(), 2 + math.cos(5))


def test_seed_example_log_x1_plus_x1x2_minus_sin_x2():
    x1, x2 = cr.tensor(2.0, requires_grad=True), cr.tensor(5.0, requires_grad=True)
    f = cr.log(x1) + x1 * x2 - cr.sin(x2)
    f.backward()
    assert math.isclose(f.item(), math.log(2) + 10 - math.sin(5))
    assert math.isclose(x1.grad.item(), 1 / 2 + 5)
    assert math.isclose(x2.grad.item(), 2 - math.cos(5))


def test_seed_example_sqrt_x2_plus_y2():
    # ℓ = √(x² + y²): ∂ℓ/∂x = x/ℓ, ∂ℓ/∂y = y/ℓ
    x, y = cr.tensor(3.0, requires_grad=True), cr.tensor(4.0, requires_grad=True)
    u = x**2
    w = y**2
    r = u + w
    ell = cr.sqrt(r)
    ell.backward()
    assert ell.item() == 5.0
    assert math.isclose(x.grad.item(), 0.6) and math.isclose(y.grad.item(), 0.8)


def test_seed_example_regularised_logistic_unit():
    # z = wx + b, y = σ(z), L = ½(y - t)² + λ/2 w²:  ∂L/∂w = (y - t) σ'(z) x + λ w
    w0, b0, x, t, lam = 0.7, -0.3, 1.5, 1.0, 0.1
    w, b = cr.tensor(w0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    z = w * x + b
    y = cr.sigmoid(z)
    L = 0.5 * (y - t) ** 2 + lam / 2 * w**2
    L.backward()
    s = 1 / (1 + math.exp(-(w0 * x + b0)))
    assert math.isclose(w.grad.item(), (s - t) * s * (1 - s) * x + lam * w0, rel_tol=1e-12)
    assert math.isclose(b.grad.item(), (s - t) * s * (1 - s), rel_tol=1e-12)


def test_seed_example_two_layer_net_vectorised_backward():
    # z = W1 x + b1, h = σ(z), y = W2 h + b2, L = ½‖t - y‖²; the notes' backward in matrix form
    r = np.random.default_rng(0)
    x, t = r.standard_normal(4), r.standard_normal(2)
    W1, b1, W2, b2 = (cr.tensor(r.standard_normal(s), requires_grad=True) for s in ((3, 4), (3,), (2, 3), (2,)))
    z = W1 @ x + b1
    h = cr.sigmoid(z)
    y = W2 @ h + b2
    loss = 0.5 * cr.sum((t - y) ** 2)
    loss.backward()
    zv = W1.data @ x + b1.data
    hv = 1 / (1 + np.exp(-zv))
    y_bar = W2.data @ hv + b2.data - t  # ȳ = L̄ (y - t)
    h_bar = W2.data.T @ y_bar  # h̄ = W2ᵀ ȳ
    z_bar = h_bar * hv * (1 - hv)  # z̄ = h̄ ∘ σ'(z)
    np.testing.assert_allclose(W2.grad.data, np.outer(y_bar, hv))  # W̄2 = ȳ hᵀ
    np.testing.assert_allclose(b2.grad.data, y_bar)
    np.testing.assert_allclose(W1.grad.data, np.outer(z_bar, x))  # W̄1 = z̄ xᵀ
    np.testing.assert_allclose(b1.grad.data, z_bar)


def test_seed_example_edf_affine_minibatch_swap_rule():
    # y[b, i] = x[b, j] W[j, i] + B[i]: for backprop swap an input with the output and add "grad"
    r = np.random.default_rng(1)
    x = cr.tensor(r.standard_normal((5, 3)), requires_grad=True)
    W = cr.tensor(r.standard_normal((3, 4)), requires_grad=True)
    B = cr.tensor(r.standard_normal(4), requires_grad=True)
    y = cr.einsum("bj,ji->bi", x, W) + B
    y_grad = r.standard_normal((5, 4))
    y.backward(y_grad)
    np.testing.assert_allclose(x.grad.data, np.einsum("bi,ji->bj", y_grad, W.data))  # x.grad[b,j] += y.grad[b,i] W[j,i]
    np.testing.assert_allclose(W.grad.data, np.einsum("bj,bi->ji", x.data, y_grad))  # W.grad[j,i] += x[b,j] y.grad[b,i]
    np.testing.assert_allclose(B.grad.data, y_grad.sum(axis=0))  # B.grad[i] += y.grad[b,i]: broadcasting sums back
    # the same through matmul, and through a function of the product (the swap rule with ḟ)
    for leaf in (x, W, B):
        leaf.grad = None
    cr.tanh(x @ W).backward(y_grad)
    f_dot = 1 - np.tanh(x.data @ W.data) ** 2
    np.testing.assert_allclose(x.grad.data, (y_grad * f_dot) @ W.data.T)
    np.testing.assert_allclose(W.grad.data, x.data.T @ (y_grad * f_dot))


def test_fan_out_gradients_add_at_branches():
    # micrograd#2, the diamond: a value used twice gets the sum of both contributions
    x = cr.tensor(3.0, requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0
    a = cr.tensor(2.0, requires_grad=True)
    b = a + a
    c = b * b  # c = 4a², dc/da = 8a
    c.backward()
    assert a.grad.item() == 16.0


def test_leaf_grads_accumulate_and_nonleaf_grads_are_not_kept():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3 + 2, 3 + 4])
    with pytest.warns(UserWarning, match="not a leaf"):  # as PyTorch: reading it is probably a mistake
        assert y.grad is None
    assert not y.is_leaf and x.is_leaf


def test_shared_incoming_gradient_is_not_aliased_between_leaves():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(np.ones(2))
    a.grad.data[...] = 0  # an in-place edit of one .grad (gradient clipping) ...
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])  # ... never changes another


def test_no_grad_and_enable_grad():
    x = cr.tensor(1.0, requires_grad=True)
    with cr.no_grad():
        y = x * 2
        with cr.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad
    assert cr.is_grad_enabled()

    @cr.no_grad()
    def f(v):
        return v * v

    assert not f(x).requires_grad


def test_no_grad_is_thread_local():
    seen = []
    with cr.no_grad():
        t = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_deep_chain_of_100k_ops_has_no_recursion_error():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_second_backward_through_freed_graph_says_retain_graph():
    x = cr.tensor(2.0, requires_grad=True)
    y = cr.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = cr.tensor(2.0, requires_grad=True)
    y = x**3
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 2 * 12.0


def test_backward_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor(1.0).backward()
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        y.backward()
    with pytest.raises(ValueError, match="shape"):
        y.backward(np.ones(3))


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        cr.tensor([True]).requires_grad_()


def test_create_graph_gives_third_derivatives():
    x = cr.tensor(0.7, requires_grad=True)
    y = cr.sin(x) * cr.exp(x)
    (g1,) = cr.autograd.grad(y, [x], create_graph=True)
    (g2,) = cr.autograd.grad(g1, [x], create_graph=True)
    (g3,) = cr.autograd.grad(g2, [x])
    e, s, c = math.exp(0.7), math.sin(0.7), math.cos(0.7)
    assert math.isclose(g1.item(), e * (s + c))
    assert math.isclose(g2.item(), 2 * e * c)
    assert math.isclose(g3.item(), 2 * e * (c - s))


def test_backward_with_create_graph_accumulates_differentiable_grad():
    x = cr.tensor(3.0, requires_grad=True)
    (x**3).backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = cr.autograd.grad(x.grad, [x])
    assert gg.item() == 18.0


def test_dropping_the_loss_frees_its_graph_immediately():
    gc.disable()
    try:
        x = cr.tensor(np.ones(1000), requires_grad=True)
        h = cr.tanh(x * 2.0)
        loss = (h * h).sum()
        node_ref = weakref.ref(loss._node)
        h_ref = weakref.ref(h)
        del h, loss
        assert node_ref() is None and h_ref() is None  # no reference cycle kept them
    finally:
        gc.enable()


def test_backward_releases_saved_values():
    gc.disable()
    try:
        x = cr.tensor(np.ones(10), requires_grad=True)
        h = cr.tanh(x)
        node = h._node
        loss = (h * h).sum()
        del h
        loss.backward()
        assert node.ans is None and node.args is None and node.freed
    finally:
        gc.enable()


def test_float32_stays_float32_with_python_scalars():
    x = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    y = (2.5 * x + 1.0) ** 2 / 3.0 - cr.exp(x) * 0.5
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_nan_and_inf_propagate_as_values():
    x = cr.tensor([0.0, 1.0, -1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        y = cr.log(x)
        y.sum().backward()
    assert np.isneginf(y.data[0]) and np.isnan(y.data[2])
    assert np.isinf(x.grad.data[0])


def test_seeded_random_repeats():
    cr.random.seed(3)
    a = cr.random.randn(4)
    cr.random.seed(3)
    b = cr.random.randn(4)
    np.testing.assert_array_equal(a.data, b.data)
    assert cr.random.normal(0.0, 2.0, size=(2, 3)).shape == (2, 3)
    assert cr.random.uniform(0, 1, size=5, dtype=np.float32).dtype == np.float32
