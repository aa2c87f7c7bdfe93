"""RMSprop and Adagrad against their formulas written out step by step; float32 kept; state dicts."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

rng = np.random.default_rng(7)


def rmsprop_ref(theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    theta = theta.copy()
    v, m, buf = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for g in grads:
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            m = alpha * m + (1 - alpha) * g
            denom = np.sqrt(v - m * m) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / denom
            theta = theta - lr * buf
        else:
            theta = theta - lr * g / denom
    return theta


def adagrad_ref(theta, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    theta = theta.copy()
    s = np.full_like(theta, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        s = s + g * g
        theta = theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return theta


def run(opt_cls, theta0, grads, **kw):
    p = cr.tensor(theta0.copy(), requires_grad=True)
    opt = opt_cls([p], **kw)
    for g in grads:
        p.grad = cr.tensor(g)
        opt.step()
    return p, opt


THETA = rng.normal(size=(3, 4))
GRADS = [rng.normal(size=(3, 4)) for _ in range(20)]

RMS_CASES = [dict(), dict(lr=0.05, alpha=0.9), dict(momentum=0.9), dict(centered=True),
             dict(centered=True, momentum=0.5, weight_decay=0.1), dict(alpha=0.3, centered=True)]
ADA_CASES = [dict(), dict(lr=0.1, lr_decay=0.05), dict(weight_decay=0.2, initial_accumulator_value=0.5)]


@pytest.mark.parametrize("kw", RMS_CASES)
def test_rmsprop_matches_formula(kw):
    p, _ = run(optim.RMSprop, THETA, GRADS, **kw)
    np.testing.assert_allclose(p.data, rmsprop_ref(THETA, GRADS, **kw), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw", ADA_CASES)
def test_adagrad_matches_formula(kw):
    p, _ = run(optim.Adagrad, THETA, GRADS, **kw)
    np.testing.assert_allclose(p.data, adagrad_ref(THETA, GRADS, **kw), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls,kw", [(optim.RMSprop, dict(momentum=0.9, centered=True)),
                                    (optim.Adagrad, dict(lr_decay=0.1, initial_accumulator_value=0.1))])
def test_float32_stays_float32(cls, kw):
    grads = [g.astype(np.float32) for g in GRADS]
    p, opt = run(cls, THETA.astype(np.float32), grads, lr=np.float64(0.01), **kw)
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values())
    want = (rmsprop_ref if cls is optim.RMSprop else adagrad_ref)(THETA, GRADS, **kw)
    np.testing.assert_allclose(p.data, want, rtol=1e-4, atol=1e-5)


def test_state_dict_keys_and_resume():
    _, opt = run(optim.RMSprop, THETA, GRADS[:3], momentum=0.9, centered=True)
    sd = opt.state_dict()
    assert sorted(sd["state"][0]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]
    assert float(sd["state"][0]["step"]) == 3.0
    assert sorted(sd["param_groups"][0]) == ["alpha", "centered", "eps", "lr", "maximize", "momentum", "params",
                                             "weight_decay"]
    p2 = cr.tensor(THETA.copy(), requires_grad=True)
    fresh = optim.Adagrad([p2])
    assert sorted(fresh.state_dict()["state"][0]) == ["step", "sum"]  # from construction on, as PyTorch
    assert sorted(fresh.state_dict()["param_groups"][0]) == ["eps", "initial_accumulator_value", "lr", "lr_decay",
                                                             "maximize", "params", "weight_decay"]
    # resume half-way through from a saved state: the same end point as an uninterrupted run
    for cls, kw in [(optim.RMSprop, dict(momentum=0.9, centered=True)), (optim.Adagrad, dict(lr_decay=0.1))]:
        whole, _ = run(cls, THETA, GRADS, **kw)
        half, opt = run(cls, THETA, GRADS[:10], **kw)
        p = cr.tensor(half.data.copy(), requires_grad=True)
        opt2 = cls([p], **kw)
        opt2.load_state_dict(optim.flatten_state_dict(opt.state_dict()))
        for g in GRADS[10:]:
            p.grad = cr.tensor(g)
            opt2.step()
        np.testing.assert_allclose(p.data, whole.data, rtol=1e-13)


def test_bad_hyperparameters():
    p = cr.tensor(THETA.copy(), requires_grad=True)
    with pytest.raises(ValueError, match="Invalid alpha"):
        optim.RMSprop([p], alpha=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum"):
        optim.RMSprop([p], momentum=-1)
    with pytest.raises(ValueError, match="Invalid lr_decay"):
        optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid initial_accumulator_value"):
        optim.Adagrad([p], initial_accumulator_value=-1)
