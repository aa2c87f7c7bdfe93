"""Against PyTorch where it is installed: forward values, gradients and optimiser steps from identical weights.

Skipped as a whole without torch (CI has none); everything here is also
covered by closed forms and finite differences in the other files.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

tF = torch.nn.functional
f32 = np.float32


def gen(seed=0):
    return np.random.default_rng(seed)  # one generator per test: results don't depend on test order


def to_torch(module_cr, module_torch):
    """Copy chainrule's weights (a state dict with PyTorch's names) into the torch module."""
    sd = {k: torch.from_numpy(np.array(v.data)) for k, v in module_cr.state_dict().items()}
    module_torch.load_state_dict(sd, strict=True)
    return module_cr, module_torch


def from_torch(module_cr, module_torch):
    """Copy torch's weights into chainrule: load_state_dict takes torch tensors (anything with __array__)."""
    module_cr.load_state_dict(module_torch.state_dict())
    return module_cr, module_torch


def randomise(module_torch, rng):
    """Non-default affine weights (torch initialises norms to ones and zeros, which would hide mistakes)."""
    with torch.no_grad():
        for p in module_torch.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, tuple(p.shape)).astype(f32)))


def close(a, b, what, rtol=1e-4, atol=1e-5):
    a = a.data if isinstance(a, cr.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def compare(module_cr, module_torch, x, rng, rtol=1e-4, atol=1e-5):
    """Same output, and the same gradients for input and every parameter under a random cotangent."""
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = module_cr(xc), module_torch(xt)
    if isinstance(yc, tuple):
        yc, yt = yc[0], yt[0]
    close(yc, yt, "forward", rtol, atol)
    assert yc.dtype == x.dtype
    w = rng.standard_normal(yc.shape).astype(x.dtype)
    (yc * w).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    close(xc.grad, xt.grad, "input gradient", rtol, atol)
    params_t = dict(module_torch.named_parameters())
    assert [n for n, _ in module_cr.named_parameters()] == list(params_t)
    for name, p in module_cr.named_parameters():
        close(p.grad, params_t[name].grad, f"gradient of {name}", rtol, atol)
    module_cr.zero_grad()
    module_torch.zero_grad()


# ---- layers -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,bias", [((4, 5), True), ((4, 5), False), ((2, 3, 5), True), ((5,), True)])
def test_linear(shape, bias):
    rng = gen(1)
    compare(*to_torch(nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias)),
            rng.standard_normal(shape).astype(f32), rng)


CONV = [(3, 1, 0), (3, 2, 1), (2, 2, 0), ((3, 2), (2, 1), (1, 0)), (5, 3, 2), (1, 1, 0), (3, 1, (2, 0)),
        (3, 1, "same"), (4, 1, "same"), ((2, 5), 1, "same"), (3, 1, "valid"), (3, 2, "valid")]


# torch warns that an even kernel with 'same' pads asymmetrically (through a copy); we pad the same way
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("unbatched", [False, True], ids=["NCHW", "CHW"])
@pytest.mark.parametrize("kernel,stride,padding", CONV, ids=[f"k{k}-s{s}-p{p}" for k, s, p in CONV])
def test_conv2d(kernel, stride, padding, unbatched):
    rng = gen(2)
    x = rng.standard_normal((3, 9, 8) if unbatched else (2, 3, 9, 8)).astype(f32)
    compare(*to_torch(nn.Conv2d(3, 4, kernel, stride=stride, padding=padding),
                      torch.nn.Conv2d(3, 4, kernel, stride=stride, padding=padding)), x, rng)


def test_conv2d_without_bias():
    rng = gen(3)
    compare(*to_torch(nn.Conv2d(2, 3, 3, bias=False), torch.nn.Conv2d(2, 3, 3, bias=False)),
            rng.standard_normal((2, 2, 6, 6)).astype(f32), rng)


POOL = [(2, None, 0), (3, 2, 1), (3, 1, 0), (2, 1, 0), (3, 3, 0), (2, 2, 1), ((3, 2), (2, 1), (1, 1))]


@pytest.mark.parametrize("values", ["distinct", "ties", "negative"])
@pytest.mark.parametrize("kernel,stride,padding", POOL, ids=[f"k{k}-s{s}-p{p}" for k, s, p in POOL])
def test_max_pool2d(kernel, stride, padding, values):
    rng = gen(4)
    x = rng.standard_normal((2, 3, 7, 6))
    if values == "ties":  # as after a ReLU, and coarse values: many windows tie; the first maximum wins in both
        x = np.maximum(np.round(x), 0)
    elif values == "negative":  # the -inf padding, never zero padding, must win nothing
        x = -np.abs(x) - 1
    x = x.astype(f32)
    compare(nn.MaxPool2d(kernel, stride, padding), torch.nn.MaxPool2d(kernel, stride, padding), x, rng)
    compare(nn.MaxPool2d(kernel, stride, padding), torch.nn.MaxPool2d(kernel, stride, padding), x[0], rng)


@pytest.mark.parametrize("shape,normalized,kw", [
    ((4, 7), 7, {}),
    ((2, 3, 9, 8), (9, 8), {}),
    ((4, 7), 7, {"elementwise_affine": False}),
    ((4, 7), (7,), {"bias": False}),
    ((3, 5, 7), 7, {"eps": 1e-2}),
])
def test_layer_norm(shape, normalized, kw):
    rng = gen(5)
    tm = torch.nn.LayerNorm(normalized, **kw)
    randomise(tm, rng)
    x = (rng.standard_normal(shape) * 3 + 1).astype(f32)
    compare(*from_torch(nn.LayerNorm(normalized, **kw), tm), x, rng)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3)], ids=["2-D", "3-D"])
def test_batch_norm1d_training_steps_running_stats_and_eval(shape, momentum):
    rng = gen(6)
    cm, tm = nn.BatchNorm1d(5, momentum=momentum), torch.nn.BatchNorm1d(5, momentum=momentum)
    randomise(tm, rng)
    from_torch(cm, tm)
    for step in range(4):
        x = (rng.standard_normal(shape) * 3 + step).astype(f32)
        compare(cm, tm, x, rng)
        for name, value in tm.state_dict().items():  # running_mean, running_var, num_batches_tracked
            close(cm.state_dict()[name], value, f"{name} after step {step}", rtol=1e-5, atol=1e-6)
    cm.eval()
    tm.eval()
    compare(cm, tm, rng.standard_normal(shape).astype(f32), rng)


@pytest.mark.parametrize("kw", [{"affine": False}, {"track_running_stats": False}, {"eps": 1e-1}])
def test_batch_norm1d_options(kw):
    rng = gen(7)
    cm, tm = to_torch(nn.BatchNorm1d(4, **kw), torch.nn.BatchNorm1d(4, **kw))
    for mode in ("train", "eval"):  # without running stats, eval normalises with the batch's statistics too
        getattr(cm, mode)()
        getattr(tm, mode)()
        compare(cm, tm, rng.standard_normal((5, 4)).astype(f32), rng)
    assert list(cm.state_dict()) == list(tm.state_dict())


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding(padding_idx):
    rng = gen(8)
    tm = torch.nn.Embedding(10, 4, padding_idx=padding_idx)
    cm = nn.Embedding(10, 4, padding_idx=padding_idx)
    if padding_idx is not None:  # both initialise the padding row to zeros
        np.testing.assert_array_equal(cm.weight.data[padding_idx], 0)
    from_torch(cm, tm)
    ids = np.array([[1, 2, 1, 9], [9, 0, 1, 1]])  # repeats accumulate; the padding row gets no gradient
    yc, yt = cm(ids), tm(torch.from_numpy(ids))
    close(yc, yt, "forward", 0, 0)
    g = rng.standard_normal(yc.shape).astype(f32)
    (yc * g).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    close(cm.weight.grad, tm.weight.grad, "weight gradient", 1e-6, 1e-6)


RNN = [{}, {"nonlinearity": "relu"}, {"batch_first": True}, {"num_layers": 2},
       {"num_layers": 2, "batch_first": True, "nonlinearity": "relu"}, {"bias": False}]


@pytest.mark.parametrize("with_h0", [False, True], ids=["no h0", "h0"])
@pytest.mark.parametrize("kw", RNN, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_rnn(kw, with_h0):
    rng = gen(9)
    cm, tm = to_torch(nn.RNN(3, 5, **kw), torch.nn.RNN(3, 5, **kw))
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    layers, first = kw.get("num_layers", 1), kw.get("batch_first", False)
    x = rng.standard_normal((2, 4, 3) if first else (4, 2, 3)).astype(f32)  # batch 2, 4 steps
    h0 = rng.standard_normal((layers, 2, 5)).astype(f32)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    hc, ht = cr.tensor(h0, requires_grad=True), torch.tensor(h0, requires_grad=True)
    (oc, nc), (ot, nt) = (cm(xc, hc), tm(xt, ht)) if with_h0 else (cm(xc), tm(xt))
    close(oc, ot, "output")
    close(nc, nt, "h_n")
    g1, g2 = rng.standard_normal(oc.shape).astype(f32), rng.standard_normal(nc.shape).astype(f32)
    ((oc * g1).sum() + (nc * g2).sum()).backward()
    ((ot * torch.from_numpy(g1)).sum() + (nt * torch.from_numpy(g2)).sum()).backward()
    close(xc.grad, xt.grad, "input gradient")
    if with_h0:
        close(hc.grad, ht.grad, "h0 gradient")
    params_t = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        close(p.grad, params_t[name].grad, f"gradient of {name}")


def test_rnn_unbatched():
    rng = gen(10)
    cm, tm = to_torch(nn.RNN(3, 5), torch.nn.RNN(3, 5))
    x = rng.standard_normal((4, 3)).astype(f32)
    (oc, nc), (ot, nt) = cm(cr.tensor(x)), tm(torch.from_numpy(x))
    close(oc, ot, "output")
    close(nc, nt, "h_n")


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_statistics_match(p):
    n = 200_000
    x = np.ones(n, f32)
    xc = cr.tensor(x, requires_grad=True)
    yc = nn.Dropout(p)(xc)
    yt = torch.nn.Dropout(p)(torch.from_numpy(x)).numpy()
    ours, theirs = yc.data, yt
    sigma = np.sqrt(p * (1 - p) / n)
    for y in (ours, theirs):
        assert abs((y == 0).mean() - p) < 5 * sigma
    # survivors are scaled by 1/(1-p) in the input's dtype, the same value as torch's
    assert yc.dtype == np.float32
    np.testing.assert_allclose(np.unique(ours[ours != 0]), np.unique(theirs[theirs != 0]), rtol=1e-6)
    yc.sum().backward()
    np.testing.assert_array_equal(xc.grad.data, ours)  # the gradient is the same mask, same scale
    for module in (nn.Dropout(p).eval(), torch.nn.Dropout(p).eval()):
        out = module(cr.tensor(x) if isinstance(module, nn.Module) else torch.from_numpy(x))
        np.testing.assert_array_equal(np.asarray(out.data if isinstance(out, cr.Tensor) else out), x)


def test_dropout_extremes():
    x = np.ones((3, 4), f32)
    for p in (0.0, 1.0):
        close(nn.Dropout(p)(cr.tensor(x)), torch.nn.Dropout(p)(torch.from_numpy(x)), f"p={p}", 0, 0)


# ---- losses -----------------------------------------------------------------------------------
def _loss_cases():
    rng = gen(11)
    n, c = 6, 4
    x = rng.standard_normal((n, c))
    y = rng.integers(0, c, n)
    y_ign = y.copy()
    y_ign[[1, 4]] = 2  # as ignore_index below
    w = rng.random(c) + 0.5
    probs = rng.dirichlet(np.ones(c), n)
    xk, yk = rng.standard_normal((3, c, 5)), rng.integers(0, c, (3, 5))
    p, t = rng.uniform(0.02, 0.98, (n, 3)), rng.uniform(0, 1, (n, 3))
    wb, pos = rng.random((n, 3)) + 0.5, rng.random(3) + 0.5
    T = torch.from_numpy
    yield "mse", x, lambda a, r: F.mse_loss(a, p[:, :1].repeat(c, 1), reduction=r), \
        lambda a, r: tF.mse_loss(a, T(p[:, :1].repeat(c, 1)), reduction=r)
    for name, kc, kt in (
        ("plain", {}, {}),
        ("weight", {"weight": w}, {"weight": T(w)}),
        ("ignore_index", {"ignore_index": 2}, {"ignore_index": 2}),
        ("label_smoothing", {"label_smoothing": 0.2}, {"label_smoothing": 0.2}),
        ("weight+smoothing+ignore", {"weight": w, "label_smoothing": 0.3, "ignore_index": 2},
         {"weight": T(w), "label_smoothing": 0.3, "ignore_index": 2}),
    ):
        target = y_ign if "ignore_index" in kc else y
        yield f"cross_entropy {name}", x, \
            lambda a, r, kc=kc, target=target: F.cross_entropy(a, target, reduction=r, **kc), \
            lambda a, r, kt=kt, target=target: tF.cross_entropy(a, T(target), reduction=r, **kt)
    yield "cross_entropy (N, C, d)", xk, lambda a, r: F.cross_entropy(a, yk, reduction=r), \
        lambda a, r: tF.cross_entropy(a, T(yk), reduction=r)
    yield "cross_entropy probabilities", x, lambda a, r: F.cross_entropy(a, probs, reduction=r), \
        lambda a, r: tF.cross_entropy(a, T(probs), reduction=r)
    yield "cross_entropy probabilities+weight+smoothing", x, \
        lambda a, r: F.cross_entropy(a, probs, weight=w, label_smoothing=0.1, reduction=r), \
        lambda a, r: tF.cross_entropy(a, T(probs), weight=T(w), label_smoothing=0.1, reduction=r)
    yield "cross_entropy unbatched", x[0], lambda a, r: F.cross_entropy(a, np.array(y[0]), reduction=r), \
        lambda a, r: tF.cross_entropy(a, T(np.array(y[0])), reduction=r)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    for name, kc, kt in (("plain", {}, {}), ("weight", {"weight": w}, {"weight": T(w)}),
                         ("weight+ignore", {"weight": w, "ignore_index": 2}, {"weight": T(w), "ignore_index": 2})):
        target = y_ign if "ignore_index" in kc else y
        yield f"nll_loss {name}", logp, \
            lambda a, r, kc=kc, target=target: F.nll_loss(a, target, reduction=r, **kc), \
            lambda a, r, kt=kt, target=target: tF.nll_loss(a, T(target), reduction=r, **kt)
    yield "nll_loss (N, C, d)", xk, lambda a, r: F.nll_loss(a, yk, reduction=r), \
        lambda a, r: tF.nll_loss(a, T(yk), reduction=r)
    yield "binary_cross_entropy", p, lambda a, r: F.binary_cross_entropy(a, t, reduction=r), \
        lambda a, r: tF.binary_cross_entropy(a, T(t), reduction=r)
    yield "binary_cross_entropy weight", p, lambda a, r: F.binary_cross_entropy(a, t, weight=wb, reduction=r), \
        lambda a, r: tF.binary_cross_entropy(a, T(t), weight=T(wb), reduction=r)
    z = rng.standard_normal((n, 3)) * 4
    yield "bce_with_logits", z, lambda a, r: F.binary_cross_entropy_with_logits(a, t, reduction=r), \
        lambda a, r: tF.binary_cross_entropy_with_logits(a, T(t), reduction=r)
    yield "bce_with_logits weight+pos_weight", z, \
        lambda a, r: F.binary_cross_entropy_with_logits(a, t, weight=wb, pos_weight=pos, reduction=r), \
        lambda a, r: tF.binary_cross_entropy_with_logits(a, T(t), weight=T(wb), pos_weight=T(pos), reduction=r)


LOSSES = list(_loss_cases())


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses(case, reduction):
    name, x, ours, theirs = case
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lc, lt = ours(xc, reduction), theirs(xt, reduction)
    close(lc, lt, f"{name} value", rtol=1e-10, atol=1e-12)
    g = gen(12).standard_normal(lc.shape)
    (lc * g).sum().backward()
    (lt * torch.from_numpy(np.asarray(g))).sum().backward()
    close(xc.grad, xt.grad, f"{name} gradient", rtol=1e-9, atol=1e-12)


def test_losses_in_float32_stay_float32():
    rng = gen(13)
    x = rng.standard_normal((5, 3)).astype(f32)
    y = rng.integers(0, 3, 5)
    lc = F.cross_entropy(cr.tensor(x), y, label_smoothing=0.1)
    lt = tF.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), label_smoothing=0.1)
    assert lc.dtype == np.float32
    close(lc, lt, "float32 cross_entropy", rtol=1e-6, atol=1e-7)


# ---- optimisers ----------------------------------------------------------------------------
OPTIMISERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.2, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.01, "betas": (0.2, 0.9), "eps": 1e-6}),  # beta1 < 0.5: torch.lerp's other formula
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}),
]
OPT_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})" for name, kw in OPTIMISERS]


@pytest.mark.parametrize("name,kw", OPTIMISERS, ids=OPT_IDS)
def test_optimiser_steps_from_the_same_gradients(name, kw):
    rng = gen(14)
    theta = rng.standard_normal((3, 4)).astype(f32)
    pc, pt = cr.tensor(theta.copy(), requires_grad=True), torch.tensor(theta.copy(), requires_grad=True)
    oc, ot = getattr(optim, name)([pc], **kw), getattr(torch.optim, name)([pt], **kw)
    for step in range(6):
        g = rng.standard_normal((3, 4)).astype(f32)
        pc.grad, pt.grad = g, torch.from_numpy(g.copy())
        oc.step()
        ot.step()
        # float32 rounding only (torch fuses some multiply-adds): far below any difference in the update rule
        close(pc, pt, f"parameter after step {step + 1}", rtol=1e-5, atol=1e-6)
    assert pc.dtype == np.float32
    theirs = {k: v for k, v in ot.state_dict()["state"].get(0, {}).items() if v is not None}
    assert sorted(theirs) == sorted(oc.state_dict()["state"].get(0, {}))  # plain SGD keeps no state
    for key, value in theirs.items():
        close(oc.state_dict()["state"][0][key], value, f"state {key}", rtol=1e-5, atol=1e-6)
        assert oc.state[pc][key].dtype == np.float32


@pytest.mark.parametrize("name,kw", OPTIMISERS, ids=OPT_IDS)
def test_optimiser_trains_a_model_like_torch(name, kw):
    rng = gen(15)
    x, y = rng.standard_normal((16, 6)).astype(f32), rng.integers(0, 3, 16)
    cm = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    tm = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    to_torch(cm, tm)
    oc, ot = getattr(optim, name)(cm.parameters(), **kw), getattr(torch.optim, name)(tm.parameters(), **kw)
    for step in range(8):
        oc.zero_grad()
        ot.zero_grad()
        F.cross_entropy(cm(cr.tensor(x)), y).backward()
        tF.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        oc.step()
        ot.step()
        for (n, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters()):
            close(p, q, f"{n} after step {step + 1}", rtol=1e-4, atol=2e-6)
            assert p.dtype == np.float32


@pytest.mark.parametrize("name,kw", [OPTIMISERS[3], OPTIMISERS[7], OPTIMISERS[11]], ids=[OPT_IDS[3], OPT_IDS[7],
                                                                                          OPT_IDS[11]])
def test_optimiser_continues_from_torchs_state_dict(name, kw):
    rng = gen(16)
    theta = rng.standard_normal((2, 3)).astype(f32)
    pt = torch.tensor(theta, requires_grad=True)
    ot = getattr(torch.optim, name)([pt], **kw)
    grads = [rng.standard_normal((2, 3)).astype(f32) for _ in range(6)]
    for g in grads[:3]:
        pt.grad = torch.from_numpy(g.copy())
        ot.step()
    pc = cr.tensor(pt.detach().numpy().copy(), requires_grad=True)
    oc = getattr(optim, name)([pc], lr=123.0)  # every hyperparameter and the state come from torch's dict
    oc.load_state_dict(ot.state_dict())
    for g in grads[3:]:
        pt.grad, pc.grad = torch.from_numpy(g.copy()), g
        ot.step()
        oc.step()
    close(pc, pt, "parameter", rtol=1e-6, atol=1e-7)
