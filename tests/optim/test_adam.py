"""Adam, AdamW and AMSGrad against the formulas with bias correction, step by step."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

rng = np.random.default_rng(1)


def adam_ref(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False, maximize=False):
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    vmax = np.zeros_like(theta)
    for step, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if weight_decay and decoupled:
            theta = theta * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**step)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            v_hat = vmax / (1 - b2**step)
        else:
            v_hat = v / (1 - b2**step)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps * 1.0)
    return theta


def run(opt_cls, theta0, grads, **kw):
    p = cr.tensor(theta0.copy(), requires_grad=True)
    opt = opt_cls([p], **kw)
    for g in grads:
        p.grad = g.copy()
        opt.step()
    return p, opt


# NOTE: PyTorch divides √v by √(1-β₂ᵗ) and adds eps after; v̂ = v/(1-β₂ᵗ) with √v̂ + eps is the same number.
CONFIGS = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99)},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.05, "maximize": True, "eps": 1e-3},
]


@pytest.mark.parametrize("kw", CONFIGS, ids=str)
def test_adam_five_steps_match_the_formula(kw):
    theta0 = rng.standard_normal((4,))
    grads = [rng.standard_normal(4) * (k + 1) for k in range(5)]
    p, opt = run(optim.Adam, theta0, grads, **kw)
    np.testing.assert_allclose(p.data, adam_ref(theta0, grads, **kw), rtol=1e-12, atol=1e-14)
    assert float(opt.state[p]["step"]) == 5.0


@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.3, "lr": 0.02}, {"amsgrad": True}], ids=str)
def test_adamw_decouples_weight_decay(kw):
    theta0 = rng.standard_normal((3,))
    grads = [rng.standard_normal(3) for _ in range(5)]
    p, _ = run(optim.AdamW, theta0, grads, **kw)
    full = {"weight_decay": 1e-2, **kw}  # PyTorch's AdamW default decay
    np.testing.assert_allclose(p.data, adam_ref(theta0, grads, decoupled=True, **full), rtol=1e-12, atol=1e-14)


def test_first_adam_step_moves_every_weight_by_lr():
    # with bias correction, step 1 is lr · g/|g| (up to eps)
    p, _ = run(optim.Adam, np.array([1.0, -2.0, 3.0]), [np.array([0.5, -4.0, 1e-3])], lr=0.1)
    np.testing.assert_allclose(p.data, [0.9, -1.9, 2.9], atol=1e-5)
    assert math.isclose(p.data[0], 0.9, abs_tol=1e-7)


def test_adam_keeps_float32_state_and_parameters():
    p = cr.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    opt = optim.AdamW([p], lr=1e-2, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values())


def test_adam_rejects_bad_hyperparameters():
    p = cr.tensor(np.ones(1), requires_grad=True)
    with pytest.raises(ValueError, match="beta parameter at index 0"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="epsilon"):
        optim.Adam([p], eps=-1)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.AdamW([p], weight_decay=-0.1)
