"""GELU, SiLU, Softplus, ELU and the L1 / smooth L1 / Huber / KL losses without torch: closed forms,
finite differences, stability at ±1000 and float32 kept."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

XS = np.array([-4.0, -1.5, -0.3, 0.2, 0.9, 3.0])
PHI = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in XS])
SIG = 1 / (1 + np.exp(-XS))

ACTIVATIONS = {
    "gelu": (F.gelu, XS * PHI),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  0.5 * XS * (1 + np.tanh(math.sqrt(2 / math.pi) * (XS + 0.044715 * XS**3)))),
    "silu": (F.silu, XS * SIG),
    "softplus": (F.softplus, np.log1p(np.exp(XS))),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=5.0),
                      np.where(2 * XS > 5, XS, np.log1p(np.exp(2 * XS)) / 2)),
    "elu": (lambda x: F.elu(x, alpha=0.7), np.where(XS > 0, XS, 0.7 * np.expm1(XS))),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), np.where(XS > 0, XS, 0.2 * XS)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_finite_differences(name):
    f, want = ACTIVATIONS[name]
    np.testing.assert_allclose(f(cr.tensor(XS)).data, want, rtol=1e-12, atol=1e-14)
    assert cr.gradcheck(f, (XS.copy(),), second_order=name != "leaky_relu")


def test_gelu_derivative_closed_form():
    x = cr.tensor(XS, requires_grad=True)
    F.gelu(x).sum().backward()
    pdf = np.exp(-XS**2 / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(x.grad.data, PHI + XS * pdf, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_stable_at_1000_and_keeps_dtype(name, dtype):
    f, _ = ACTIVATIONS[name]
    x = cr.tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings either
        y = f(x)
        y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all()
    assert y.data[-1] == 1000.0 and x.grad.data[-1] == 1.0  # every one of them is the identity far right
    assert abs(x.grad.data[0]) <= 0.2


def test_derivatives_at_zero_are_pytorchs():
    x = cr.tensor(np.zeros(1), requires_grad=True)
    F.elu(x, alpha=0.7).sum().backward()
    assert x.grad.data[0] == 0.7  # the negative branch's α·e⁰, not an average of the two sides
    x.grad = None
    F.gelu(x).sum().backward()
    assert x.grad.data[0] == 0.5


def test_activation_modules():
    x = cr.tensor(XS)
    np.testing.assert_allclose(nn.GELU()(x).data, ACTIVATIONS["gelu"][1])
    np.testing.assert_allclose(nn.GELU("tanh")(x).data, ACTIVATIONS["gelu_tanh"][1])
    np.testing.assert_allclose(nn.SiLU()(x).data, ACTIVATIONS["silu"][1])
    np.testing.assert_allclose(nn.Softplus(2.0, 5.0)(x).data, ACTIVATIONS["softplus_beta"][1])
    np.testing.assert_allclose(nn.ELU(0.7)(x).data, ACTIVATIONS["elu"][1])
    assert nn.Identity()(x) is x
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(x, approximate="erf")


# ---- losses ----------------------------------------------------------------------------
rng = np.random.default_rng(3)
A = rng.normal(size=(4, 3))
B = rng.normal(size=(4, 3))
B[0, 0] = A[0, 0]  # a tie: the L1 derivative there is 0, as PyTorch's sign(0)
D = A - B


def _reduced(v, reduction):
    return {"mean": v.mean(), "sum": v.sum(), "none": v}[reduction]


LOSSES = {
    "l1": (F.l1_loss, {}, np.abs(D)),
    "smooth_l1": (F.smooth_l1_loss, {"beta": 0.8},
                  np.where(np.abs(D) < 0.8, 0.5 * D**2 / 0.8, np.abs(D) - 0.4)),
    "smooth_l1_beta0": (F.smooth_l1_loss, {"beta": 0.0}, np.abs(D)),
    "huber": (F.huber_loss, {"delta": 0.8}, np.where(np.abs(D) < 0.8, 0.5 * D**2, 0.8 * (np.abs(D) - 0.4))),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_closed_form(name, reduction):
    f, kw, pointwise = LOSSES[name]
    got = f(cr.tensor(A), cr.tensor(B), reduction=reduction, **kw)
    np.testing.assert_allclose(got.data, _reduced(pointwise, reduction), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_regression_losses_gradient(name):
    f, kw, _ = LOSSES[name]
    x = cr.tensor(A, requires_grad=True)
    f(x, cr.tensor(B), reduction="sum", **kw).backward()
    beta = kw.get("beta", kw.get("delta", 0.0))
    scale = kw.get("delta", 1.0)
    slope = D / beta if kw.get("beta") else D  # inside the quadratic zone (empty when beta is 0)
    want = np.where(np.abs(D) < beta, slope, scale * np.sign(D))
    np.testing.assert_allclose(x.grad.data, want, rtol=1e-12)
    assert x.grad.data[0, 0] == 0.0
    away = A + np.where(np.abs(D) < 1e-3, 0.5, 0.0)  # off the kinks for finite differences
    assert cr.gradcheck(lambda a, b: f(a, b, **kw), (away, B.copy()))


def test_loss_modules_and_errors():
    x, t = cr.tensor(A), cr.tensor(B)
    assert nn.L1Loss()(x, t).item() == pytest.approx(np.abs(D).mean())
    assert nn.SmoothL1Loss(reduction="sum", beta=0.8)(x, t).item() == pytest.approx(LOSSES["smooth_l1"][2].sum())
    assert nn.HuberLoss(reduction="none", delta=0.8)(x, t).shape == (4, 3)
    with pytest.raises(ValueError, match=r"l1_loss: input shape \(4, 3\) and target shape \(4,\)"):
        F.l1_loss(x, cr.tensor(B[:, 0]))
    with pytest.raises(ValueError, match="L1Loss: reduction"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(ValueError, match="huber_loss: delta"):
        F.huber_loss(x, t, delta=0.0)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta"):
        F.smooth_l1_loss(x, t, beta=-1.0)


P = rng.dirichlet(np.ones(3), size=4)
Q = rng.dirichlet(np.ones(3), size=4)
P[1, 2] = 0.0  # a zero target probability contributes 0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
def test_kl_div_closed_form(reduction):
    terms = np.where(P > 0, P * (np.log(np.where(P > 0, P, 1)) - np.log(Q)), 0.0)
    want = terms.sum() / 4 if reduction == "batchmean" else _reduced(terms, reduction)
    np.testing.assert_allclose(F.kl_div(cr.tensor(np.log(Q)), cr.tensor(P), reduction).data, want, rtol=1e-12)
    logp = np.log(np.where(P > 0, P, 1e-300))
    got = F.kl_div(cr.tensor(np.log(Q)), cr.tensor(logp), reduction, log_target=True).data
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-290)
    assert nn.KLDivLoss(reduction=reduction)(cr.tensor(np.log(Q)), cr.tensor(P)).shape == np.shape(want)


def test_kl_div_gradient():
    x = cr.tensor(np.log(Q), requires_grad=True)
    F.kl_div(x, cr.tensor(P), reduction="batchmean").backward()
    np.testing.assert_allclose(x.grad.data, -P / 4, rtol=1e-12)
    assert cr.gradcheck(lambda a, b: F.kl_div(a, b, "sum", log_target=True), (np.log(Q), np.log(Q[::-1].copy())))
    with pytest.raises(ValueError, match="kl_div: reduction"):
        F.kl_div(x, cr.tensor(P), reduction="avg")
    assert repr(nn.KLDivLoss(reduction="batchmean")) == "KLDivLoss(reduction='batchmean')"


@pytest.mark.parametrize("f", [F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.kl_div])
def test_losses_keep_float32(f):
    x = cr.tensor(A.astype(np.float32), requires_grad=True)
    loss = f(x, cr.tensor(np.abs(B).astype(np.float32)))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_batch_under_vmap(name):
    f, _ = ACTIVATIONS[name]
    x = np.random.default_rng(0).normal(size=(4, 3)) * 3
    per_example = cr.vmap(cr.grad(lambda v: f(v).sum()))(x)
    np.testing.assert_allclose(per_example.data, cr.grad(lambda v: f(v).sum())(x).data, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_per_example_loss_gradients_under_vmap(name):
    f, kw, _ = LOSSES[name]
    per_example = cr.vmap(cr.grad(lambda a, b: f(a, b, reduction="sum", **kw)))(A, B)
    whole = cr.grad(lambda a: f(a, cr.tensor(B), reduction="sum", **kw))(A)
    np.testing.assert_allclose(per_example.data, whole.data, rtol=1e-12)
