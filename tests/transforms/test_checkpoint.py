"""checkpoint: same values and gradients, recomputation during backward (counted), any order, forward mode."""

import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.function import Function
from chainrule.transforms import checkpoint, grad, hessian, hvp, jacfwd, jacrev, jvp


class Counted(Function):
    """tanh that counts its forward calls."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        Counted.calls += 1
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return t * (1 - y * y)


def block(x):
    return Counted.apply(x * 1.5) * cr.sin(x)


X = np.array([0.3, -0.7, 1.1])


def test_same_values_and_gradients_and_recomputation():
    Counted.calls = 0
    x = cr.tensor(X, requires_grad=True)
    y = checkpoint(block)(x)
    assert Counted.calls == 1  # the forward pass
    y.sum().backward()
    assert Counted.calls == 2  # recomputed once, during backward
    x2 = cr.tensor(X, requires_grad=True)
    y2 = block(x2)
    y2.sum().backward()
    assert np.allclose(y.data, y2.data) and np.allclose(x.grad.data, x2.grad.data)


def test_the_node_keeps_only_inputs():
    x = cr.tensor(X, requires_grad=True)
    y = checkpoint(block)(x)
    node = y.grad_fn
    assert node.prim.name == "checkpoint" and node.ans is None
    assert len(node.args) == 1 and node.args[0] is x.data


def test_higher_order_and_forward_mode():
    cb = checkpoint(block)
    f = lambda x: cb(x).sum()
    g = lambda x: block(x).sum()
    assert np.allclose(grad(f)(X), grad(g)(X))
    assert np.allclose(hessian(f)(X), hessian(g)(X))
    assert np.allclose(jacrev(jacrev(f))(X), hessian(g)(X))
    assert np.allclose(jvp(cb, (X,), (np.ones(3),))[1], jvp(block, (X,), (np.ones(3),))[1])
    assert np.allclose(hvp(f, (X,), (np.ones(3),))[1][0], hvp(g, (X,), (np.ones(3),))[1][0])
    assert np.allclose(jacfwd(cb)(X), jacrev(block)(X))


def test_parameters_reached_through_a_closure_get_gradients():
    W = cr.tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)
    x = cr.tensor(np.array([0.1, 0.2]), requires_grad=True)
    checkpoint(lambda x: cr.tanh(W @ x))(x).sum().backward()
    W2 = cr.tensor(W.data, requires_grad=True)
    x2 = cr.tensor(x.data, requires_grad=True)
    cr.tanh(W2 @ x2).sum().backward()
    assert np.allclose(W.grad.data, W2.grad.data) and np.allclose(x.grad.data, x2.grad.data)


def test_several_outputs_and_non_tensor_arguments():
    def f(x, scale, opts):
        return {"a": x * scale, "b": (cr.exp(x) * opts["k"]).sum(), "tag": "t"}

    x = cr.tensor(X, requires_grad=True)
    out = checkpoint(f)(x, 2.0, {"k": 3.0})
    assert out["tag"] == "t" and np.allclose(out["a"].data, 2 * X)
    (out["a"].sum() + out["b"]).backward()
    assert np.allclose(x.grad.data, 2 + 3 * np.exp(X))


def test_no_graph_no_checkpoint():
    with cr.no_grad():
        y = checkpoint(block)(cr.tensor(X, requires_grad=True))
    assert not y.requires_grad


def _mlp_peak(ckpt, depth=16, width=16, batch=512):
    # activations (batch x width) dominate the weights here, as in a real network's forward pass
    rng = np.random.default_rng(0)
    Ws = [cr.tensor((rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32), requires_grad=True)
          for _ in range(depth)]
    x = cr.tensor(rng.standard_normal((batch, width)).astype(np.float32))

    def layers(lo, hi):
        def seg(h):
            for W in Ws[lo:hi]:
                h = cr.tanh(h @ W)
            return h
        return seg

    tracemalloc.start()
    try:
        h = x
        step = 4 if ckpt else depth
        for lo in range(0, depth, step):
            seg = layers(lo, min(lo + step, depth))
            h = checkpoint(seg)(h) if ckpt else seg(h)
        h.sum().backward()
        return tracemalloc.get_traced_memory()[1], [W.grad.data.copy() for W in Ws]
    finally:
        tracemalloc.stop()


def test_checkpointing_lowers_peak_memory_with_equal_gradients():
    plain, g1 = _mlp_peak(False)
    ckpt, g2 = _mlp_peak(True)
    assert all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(g1, g2))
    assert ckpt < 0.7 * plain, (plain, ckpt)


def test_closure_over_an_earlier_result_and_a_parameter():
    W = cr.tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)
    x = cr.tensor(np.array([0.1, 0.2]), requires_grad=True)
    grads = []
    for wrapper in (lambda f: f, checkpoint):
        early = cr.sin(W @ x)  # made before the segment, used inside it without being passed

        def f(y, early=early):
            return cr.tanh(y * early).sum() + (W * W).sum()

        wrapper(f)(x * 2).backward()
        grads.append((W.grad.data.copy(), x.grad.data.copy()))
        W.grad = None
        x.grad = None
    assert np.allclose(grads[0][0], grads[1][0]) and np.allclose(grads[0][1], grads[1][1])


@pytest.mark.parametrize("n", [1, 2])
def test_checkpoint_inside_checkpoint(n):
    inner = checkpoint(block)
    outer = checkpoint(lambda x: inner(x) * n)
    assert np.allclose(grad(lambda x: outer(x).sum())(X), grad(lambda x: (block(x) * n).sum())(X))


def test_outputs_of_mixed_float_dtypes_keep_their_dtypes():
    z = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    w = cr.tensor(np.ones(3), requires_grad=True)
    a, b = checkpoint(lambda z, w: (z * 2, w * 3))(z, w)
    assert a.dtype == np.float32 and b.dtype == np.float64  # as the plain function gives
    assert a.shape == (2,) and b.shape == (3,)
    (a.sum() + (b * b).sum()).backward()
    assert z.grad.dtype == np.float32 and np.allclose(z.grad.data, 2.0)
    assert np.allclose(w.grad.data, 18.0)


@pytest.mark.parametrize("fwd", ["jvp", "jacfwd", "hvp"])
def test_forward_mode_through_a_checkpoint_runs_it_once(fwd):
    cb = checkpoint(block)
    Counted.calls = 0
    if fwd == "jvp":
        _, t = jvp(cb, (X,), (np.ones(3),))
        assert np.allclose(t, jvp(block, (X,), (np.ones(3),))[1])
        assert Counted.calls == 2  # once through the checkpoint, once for the reference
    elif fwd == "jacfwd":
        J = jacfwd(cb)(X)
        assert Counted.calls == 1 and np.allclose(J, jacrev(block)(X))
    else:
        _, (hv,) = hvp(lambda x: cb(x).sum(), (X,), (np.ones(3),))
        assert Counted.calls == 1
        assert np.allclose(hv, hessian(lambda x: block(x).sum())(X) @ np.ones(3))


def test_a_segment_without_float_tensor_outputs_returns_its_value():
    np.testing.assert_array_equal(checkpoint(np.sin)(np.ones(2)), np.sin(np.ones(2)))
    assert checkpoint(lambda y: y * 2)(1.5) == 3.0
    assert checkpoint(lambda y: (y.shape, 7))(cr.tensor([1.0, 2.0], requires_grad=True)) == ((2,), 7)
    x = cr.tensor([0.3, 0.8], requires_grad=True)
    g = cr.grad(lambda x: cr.sum(checkpoint(lambda v: np.ones(2))(x) + x))(x)
    np.testing.assert_array_equal(g.data, [1.0, 1.0])
