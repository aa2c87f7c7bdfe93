"""SGD against PyTorch's documented update, written out in NumPy, step by step."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

rng = np.random.default_rng(0)


def sgd_ref(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta = theta.copy()
    buf = None
    for g in grads:
        d = -g if maximize else g.copy()
        if weight_decay:
            d = d + weight_decay * theta
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        theta = theta - lr * d
    return theta


def run(opt_cls, theta0, grads, **kw):
    p = cr.tensor(theta0.copy(), requires_grad=True)
    opt = opt_cls([p], **kw)
    for g in grads:
        p.grad = g.copy()
        opt.step()
    return p, opt


CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True},
    {"lr": 0.1, "momentum": 0.9, "maximize": True},
]


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_five_steps_match_the_formula(kw):
    theta0 = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(5)]
    p, _ = run(optim.SGD, theta0, grads, **kw)
    np.testing.assert_allclose(p.data, sgd_ref(theta0, grads, **kw), rtol=1e-13, atol=1e-15)


def test_sgd_hand_computed_momentum_step():
    # θ=1, g=2, λ=0.5: d = 2 + 0.5 = 2.5, b = d, θ = 1 - 0.1·2.5 = 0.75;
    # next g=1: d = 1 + 0.5·0.75 = 1.375, b = 0.9·2.5 + 1.375 = 3.625, θ = 0.75 - 0.3625 = 0.3875
    p, opt = run(optim.SGD, np.array([1.0]), [np.array([2.0]), np.array([1.0])], lr=0.1, momentum=0.9,
                 weight_decay=0.5)
    assert p.data[0] == pytest.approx(0.3875, abs=1e-15)
    assert opt.state[p]["momentum_buffer"][0] == pytest.approx(3.625)


def test_sgd_keeps_float32_and_skips_parameters_without_grad():
    a = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    b = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=1e-3)
    (a * a).sum().backward()
    opt.step()
    assert a.dtype == np.float32 and opt.state[a]["momentum_buffer"].dtype == np.float32
    np.testing.assert_array_equal(b.data, np.ones(3, np.float32))
    assert b not in opt.state
    opt.zero_grad()
    assert a.grad is None


def test_sgd_parameter_groups_and_errors():
    a = cr.tensor(np.ones(2), requires_grad=True)
    b = cr.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = np.ones(2)
    b.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)
    assert "Parameter Group 1" in repr(opt)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([a], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)


def test_step_with_closure_returns_the_loss():
    w = cr.tensor(np.array([3.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.data[0] == pytest.approx(1.5)


def test_backward_through_a_graph_saved_before_a_step_is_refused():
    # the step changes the weights in place; the old graph saved them (PyTorch raises too)
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    opt.zero_grad()
    (w * w).sum().backward()  # a graph made after the step is fine
    np.testing.assert_allclose(w.grad.data, 2 * np.array([0.8, 1.6]))
