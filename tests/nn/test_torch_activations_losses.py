"""Activations and losses against PyTorch, where it is installed: values, input gradients (float64 and float32)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

tnn = torch.nn
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}

ACT = [
    (nn.GELU(), tnn.GELU()),
    (nn.GELU("tanh"), tnn.GELU("tanh")),
    (nn.SiLU(), tnn.SiLU()),
    (nn.Softplus(), tnn.Softplus()),
    (nn.Softplus(beta=2.0, threshold=3.0), tnn.Softplus(beta=2.0, threshold=3.0)),
    (nn.LeakyReLU(0.05), tnn.LeakyReLU(0.05)),
    (nn.ELU(0.6), tnn.ELU(0.6)),
    (nn.Identity(), tnn.Identity()),
]


@pytest.mark.parametrize("i", range(len(ACT)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_matches_torch(i, dtype):
    ours, theirs = ACT[i]
    a = np.concatenate([np.random.default_rng(i).normal(scale=3, size=40), [-1000, -30, 0, 30, 1000]]).astype(dtype)
    x = cr.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    u = np.random.default_rng(9).normal(size=a.shape).astype(dtype)
    (y * cr.tensor(u)).sum().backward()
    (ty * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL[dtype])
    assert y.dtype == dtype and x.grad.dtype == dtype


def _compare(ours, theirs, inputs, dtype, targets=(), grads_of=(0,), rtol=None):
    """Loss values and the gradients of the inputs listed in grads_of, ours against torch's."""
    xs = [cr.tensor(a, requires_grad=k in grads_of) for k, a in enumerate(inputs)]
    txs = [torch.tensor(a, requires_grad=k in grads_of) for k, a in enumerate(inputs)]
    y = ours(*xs, *[cr.tensor(t) if t.dtype.kind == "f" else t for t in targets])
    ty = theirs(*txs, *[torch.tensor(t) for t in targets])
    u = np.random.default_rng(5).normal(size=np.shape(y.data)).astype(dtype)
    (y * cr.tensor(u)).sum().backward()
    (ty * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOL[dtype])
    tol = TOL[dtype] if rtol is None else dict(TOL[dtype], rtol=rtol)
    for k in grads_of:
        np.testing.assert_allclose(xs[k].grad.data, txs[k].grad.numpy(), **tol)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regression_losses_match_torch(reduction, dtype):
    g = np.random.default_rng(1)
    a, b = g.normal(size=(6, 5)).astype(dtype), g.normal(size=(6, 5)).astype(dtype)
    b[0, :2] = a[0, :2]
    pairs = [
        (nn.L1Loss(reduction=reduction), tnn.L1Loss(reduction=reduction)),
        (nn.MSELoss(reduction=reduction), tnn.MSELoss(reduction=reduction)),
        (nn.SmoothL1Loss(reduction=reduction, beta=0.5), tnn.SmoothL1Loss(reduction=reduction, beta=0.5)),
        (nn.SmoothL1Loss(reduction=reduction, beta=0.0), tnn.SmoothL1Loss(reduction=reduction, beta=0.0)),
        (nn.HuberLoss(reduction=reduction, delta=0.5), tnn.HuberLoss(reduction=reduction, delta=0.5)),
    ]
    for ours, theirs in pairs:
        _compare(ours, theirs, [a, b], dtype, grads_of=(0, 1))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    g = np.random.default_rng(2)
    x = np.log(g.dirichlet(np.ones(4), size=5))
    t = g.dirichlet(np.ones(4), size=5)
    if log_target:
        t = np.log(t)
    _compare(nn.KLDivLoss(reduction, log_target), tnn.KLDivLoss(reduction=reduction, log_target=log_target),
             [x, t], np.float64, grads_of=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_losses_match_torch(reduction, dtype):
    g = np.random.default_rng(3)
    z = np.concatenate([g.normal(scale=3, size=(6, 3)), [[-1000.0, 0.0, 1000.0]]]).astype(dtype)
    t = g.uniform(size=z.shape).astype(dtype)
    w = g.uniform(0.5, 2, size=(3,)).astype(dtype)
    pw = g.uniform(0.5, 3, size=(3,)).astype(dtype)
    _compare(nn.BCEWithLogitsLoss(weight=cr.tensor(w), reduction=reduction, pos_weight=cr.tensor(pw)),
             tnn.BCEWithLogitsLoss(weight=torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(pw)),
             [z, t], dtype, grads_of=(0, 1))
    _compare(nn.BCEWithLogitsLoss(reduction=reduction), tnn.BCEWithLogitsLoss(reduction=reduction), [z, t], dtype)
    p = (1 / (1 + np.exp(-z[:-1].astype(np.float64)))).astype(dtype)
    _compare(nn.BCELoss(weight=cr.tensor(w), reduction=reduction),
             tnn.BCELoss(weight=torch.tensor(w), reduction=reduction), [p, t[:-1]], dtype)
    edge = np.array([0.0, 1.0, 0.5], dtype=dtype)  # log clamped at -100: finite at 0 and 1
    # there the derivative is ~1e12 (PyTorch's clamp of p(1-p) at 1e-12), rounded in another order
    _compare(nn.BCELoss(reduction=reduction), tnn.BCELoss(reduction=reduction), [edge, np.array([1, 0, 1], dtype)],
             dtype, rtol=1e-6)


CE_CASES = [
    dict(),
    dict(label_smoothing=0.2),
    dict(ignore_index=2),
    dict(weight=True),
    dict(weight=True, label_smoothing=0.1, ignore_index=0),
    dict(weight=True, ignore_index=-100),
]


@pytest.mark.parametrize("case", range(len(CE_CASES)))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_and_nll_match_torch(case, reduction, dtype):
    kw = dict(CE_CASES[case])
    g = np.random.default_rng(4 + case)
    x = g.normal(scale=2, size=(8, 4)).astype(dtype)
    y = g.integers(0, 4, size=8)
    y[:2] = kw.get("ignore_index", 0) % 4 if kw.get("ignore_index", -100) != -100 else y[:2]
    w = g.uniform(0.2, 2, size=4).astype(dtype)
    ours, theirs = dict(kw), dict(kw)
    if kw.pop("weight", False):
        ours["weight"], theirs["weight"] = cr.tensor(w), torch.tensor(w)
    _compare(nn.CrossEntropyLoss(reduction=reduction, **ours), tnn.CrossEntropyLoss(reduction=reduction, **theirs),
             [x], dtype, targets=(y,))
    ours.pop("label_smoothing", None)
    theirs.pop("label_smoothing", None)
    lp = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True)).astype(dtype)
    _compare(nn.NLLLoss(reduction=reduction, **ours), tnn.NLLLoss(reduction=reduction, **theirs), [lp], dtype,
             targets=(y,))


def test_cross_entropy_spatial_with_weights_matches_torch():
    g = np.random.default_rng(11)
    x = g.normal(size=(2, 3, 4, 5))
    y = g.integers(0, 3, size=(2, 4, 5))
    y[0, 0, :3] = 1
    w = g.uniform(0.5, 2, size=3)
    _compare(lambda a, t: F.cross_entropy(a, t, weight=cr.tensor(w), ignore_index=1, label_smoothing=0.1),
             lambda a, t: torch.nn.functional.cross_entropy(a, t, weight=torch.tensor(w), ignore_index=1,
                                                            label_smoothing=0.1),
             [x], np.float64, targets=(y,))
