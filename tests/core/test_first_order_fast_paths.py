"""The first-order pass's shortcuts (rules on bare ndarrays) give exactly what the general rules give.

The hot rules (multiply, sin, tanh, matmul on matrices), sum_to of a batch-broadcast bias and the sweep's
in-place accumulation each take a shorter path on the first-order pass; these tests hold each to the
general path bit for bit, keep float32, and cover the cases that must not take the shortcut.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.shapes import sum_to
from chainrule.core.state import raw_mode
from chainrule.ops.elementwise import multiply, sin, tanh
from chainrule.ops.products import matmul_p

RNG = np.random.default_rng(7)


def _rule(prim, i=0):
    return prim.vjp_table[i]


@pytest.mark.parametrize("shape", [(), (8,), (32, 128)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_sin_multiply_rules_on_arrays_equal_the_formulas_bit_for_bit(shape, dtype):
    x = np.asarray(RNG.standard_normal(shape)).astype(dtype)
    y = np.asarray(RNG.standard_normal(shape)).astype(dtype)
    g = np.asarray(RNG.standard_normal(shape)).astype(dtype)
    ans = np.tanh(x)
    with raw_mode(True):
        cases = [(_rule(tanh)(g, ans, x), g * (1 - ans * ans)), (_rule(sin)(g, np.sin(x), x), g * np.cos(x)),
                 (_rule(multiply, 0)(g, x * y, x, y), g * y), (_rule(multiply, 1)(g, x * y, x, y), g * x),
                 (_rule(multiply, 0)(g, x * 1.5, x, 1.5), g * 1.5)]
    for got, want in cases:
        got = np.asarray(got)
        assert got.dtype == dtype and got.shape == shape
        assert got.tobytes() == np.asarray(want).tobytes()


def test_tanh_rule_leaves_its_inputs_alone_and_returns_a_fresh_buffer():
    ans = np.tanh(RNG.standard_normal((4, 5)).astype(np.float32))
    g = RNG.standard_normal((4, 5)).astype(np.float32)
    keep_ans, keep_g = ans.copy(), g.copy()
    with raw_mode(True):
        out = _rule(tanh)(g, ans, None)
    np.testing.assert_array_equal(ans, keep_ans)
    np.testing.assert_array_equal(g, keep_g)
    assert not np.shares_memory(out, ans) and not np.shares_memory(out, g)


def test_tanh_rule_with_a_mixed_dtype_cotangent_takes_the_general_path():
    ans = np.tanh(np.linspace(-1, 1, 6)).astype(np.float32)
    g = np.ones(6)  # float64: an in-place float32 buffer would round it
    with raw_mode(True):
        out = _rule(tanh)(g, ans, None)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, g * (1 - ans * ans))


@pytest.mark.parametrize("fn", [cr.tanh, cr.sin, lambda x: x * x])
def test_complex_inputs_keep_the_conjugate_convention(fn):
    z = cr.tensor(np.array([0.3 + 0.4j, -0.2 + 0.1j]), requires_grad=True)
    cr.real(fn(z)).sum().backward()
    eps = 1e-6
    for k in range(2):  # the conjugate Wirtinger gradient: ∂L/∂Re z + i ∂L/∂Im z
        want = 0j
        for step, unit in ((eps, 1.0), (eps * 1j, 1j)):
            d = np.zeros(2, complex)
            d[k] = step
            hi = np.real(fn(cr.tensor(z.data + d)).data).sum()
            lo = np.real(fn(cr.tensor(z.data - d)).data).sum()
            want += unit * (hi - lo) / (2 * eps)
        np.testing.assert_allclose(z.grad.data[k], want, rtol=1e-6)


def test_second_derivatives_still_flow_through_the_general_rules():
    x = cr.tensor([0.3, -0.7], requires_grad=True)
    (g,) = cr.autograd.grad((cr.tanh(x) * cr.sin(x)).sum(), [x], create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), [x])
    t, s, c = np.tanh(x.data), np.sin(x.data), np.cos(x.data)
    dt = 1 - t * t
    np.testing.assert_allclose(h.data, -2 * t * dt * s + 2 * dt * c - t * s, rtol=1e-12)


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((3, 1), (1, 5)), ((4,), (4, 5)), ((3, 4), (4,)),
                                    ((2, 3, 4), (4, 5))])
def test_matmul_rules_on_arrays_equal_the_general_path(shapes):
    a = RNG.standard_normal(shapes[0]).astype(np.float32)
    b = RNG.standard_normal(shapes[1]).astype(np.float32)
    ta, tb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    y = cr.matmul(ta, tb)
    g = RNG.standard_normal(y.shape).astype(np.float32)
    ga, gb = cr.autograd.grad(y, [ta, tb], grad_outputs=cr.tensor(g), create_graph=True)  # the Tensor rules
    with raw_mode(True):
        raw_a = matmul_p.vjp_table[0](g, None, a, b)
        raw_b = matmul_p.vjp_table[1](g, None, a, b)
    for raw, general, x in ((raw_a, ga, a), (raw_b, gb, b)):
        raw = sum_to(raw, x.shape) if raw.shape != x.shape else raw
        assert raw.dtype == np.float32
        np.testing.assert_allclose(raw, general.data, rtol=1e-6, atol=1e-6)


def test_matmul_gradients_of_complex_matrices_are_conjugated():
    a = cr.tensor(np.array([[1 + 2j, 0.5j]]), requires_grad=True)
    b = cr.tensor(np.array([[2.0 - 1j], [1.0 + 1j]]), requires_grad=True)
    cr.real(cr.matmul(a, b)).sum().backward()
    np.testing.assert_allclose(a.grad.data, np.conj(b.data).T)
    np.testing.assert_allclose(b.grad.data, np.conj(a.data).T)


def test_matmul_shape_errors_still_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\)"):
        cr.matmul(cr.ones((2, 3)), cr.ones((2, 3)))


@pytest.mark.parametrize("shape, target", [((32, 128), (128,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                           ((5, 1), (1,)), ((3, 4), ()), ((3, 4), (1, 4)), ((2, 3, 4), (3, 1))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_to_equals_the_keepdims_sum_bit_for_bit(shape, target, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    lead = x.ndim - len(target)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(target) if s == 1 and shape[lead + i] != 1)
    want = x.sum(axis=axes, keepdims=True).reshape(target)
    with raw_mode(True):
        got = sum_to(x, target)
    assert type(got) is np.ndarray and got.shape == target and got.dtype == dtype
    assert got.tobytes() == want.tobytes()


def test_bias_gradient_over_an_unrolled_loop_is_float32_and_right():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(4)]
    wx = rng.standard_normal((2, 5)).astype(np.float32)
    wh = (rng.standard_normal((5, 5)) * 0.5).astype(np.float32)
    b = (rng.standard_normal(5) * 0.1).astype(np.float32)

    def loss(wx, wh, b):
        h = cr.tanh(cr.tensor(xs[0]) @ wx + b)
        for x in xs[1:]:
            h = cr.tanh(cr.tensor(x) @ wx + h @ wh + b)
        return h.sum()

    grads = cr.grad(loss, argnums=(0, 1, 2))(cr.tensor(wx), cr.tensor(wh), cr.tensor(b))
    wx64, wh64, b64 = (cr.tensor(p.astype(np.float64), requires_grad=True) for p in (wx, wh, b))
    loss(wx64, wh64, b64).backward()
    for got, ref in zip(grads, (wx64, wh64, b64)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.data, ref.grad.data, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("targeted", [False, True])
def test_a_buffer_accumulated_in_place_is_never_shared_with_another_adjoint(targeted):
    # n's adjoint is a buffer the sweep made (two contributions); add hands that same buffer to p and q;
    # q then gets one more contribution, which must go into a new buffer, not into p's.
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    q = cr.tensor([3.0, 4.0], requires_grad=True)
    m = q * 5.0  # made before n: the sweep reaches it after n
    n = p + q
    out = (n * 2.0 + n * 3.0 + m).sum()
    if targeted:
        gp, gq = cr.autograd.grad(out, [p, q])
    else:
        out.backward()
        gp, gq = p.grad, q.grad
    np.testing.assert_array_equal(gp.data, [5.0, 5.0])
    np.testing.assert_array_equal(gq.data, [10.0, 10.0])


def test_targets_that_reach_no_other_target_still_get_their_gradient():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * 3.0
    z = y * y
    gy, gx = cr.autograd.grad(z, [y, x])
    assert gy.item() == 12.0 and gx.item() == 36.0
    (gy,) = cr.autograd.grad(y * y, [y])  # an op node as the only target: its parents are not needed
    assert gy.item() == 12.0
