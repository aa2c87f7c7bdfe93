"""Against PyTorch where it is installed: forward values, gradients and five optimiser steps, same weights."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

rng = np.random.default_rng(0)


def pair(module_cr, module_torch):
    """Copy chainrule's weights (a state dict with PyTorch's names) into the torch module."""
    sd = {k: torch.from_numpy(np.array(v.data)) for k, v in module_cr.state_dict().items()}
    module_torch.load_state_dict(sd)
    return module_cr, module_torch


def compare(module_cr, module_torch, x, loss_cr=None, loss_torch=None, rtol=1e-4, atol=1e-5):
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yc, yt = module_cr(xc), module_torch(xt)
    if isinstance(yc, tuple):
        yc, yt = yc[0], yt[0]
    np.testing.assert_allclose(yc.data, yt.detach().numpy(), rtol=rtol, atol=atol)
    w = rng.standard_normal(yc.shape).astype(x.dtype)
    (yc * w).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol)
    params_t = dict(module_torch.named_parameters())
    for name, p in module_cr.named_parameters():
        np.testing.assert_allclose(p.grad.data, params_t[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


def test_linear_conv_pool_against_torch():
    f32 = np.float32
    compare(*pair(nn.Linear(5, 3), torch.nn.Linear(5, 3)), rng.standard_normal((4, 5)).astype(f32))
    compare(*pair(nn.Conv2d(2, 3, 3, stride=2, padding=1), torch.nn.Conv2d(2, 3, 3, stride=2, padding=1)),
            rng.standard_normal((2, 2, 7, 6)).astype(f32))
    x = np.maximum(rng.standard_normal((2, 3, 6, 6)), 0).astype(f32)  # zeros: ties go to the first, as in torch
    compare(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x)
    compare(nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1), x)


def test_norms_embedding_rnn_against_torch():
    f32 = np.float32
    bn_c, bn_t = pair(nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4))
    x = rng.standard_normal((6, 4)).astype(f32)
    compare(bn_c, bn_t, x)
    for name, v in bn_c.state_dict().items():
        np.testing.assert_allclose(v.data, bn_t.state_dict()[name].numpy(), rtol=1e-5, err_msg=name)
    compare(*pair(nn.LayerNorm(4), torch.nn.LayerNorm(4)), x)
    compare(*pair(nn.RNN(4, 5, num_layers=2), torch.nn.RNN(4, 5, num_layers=2)),
            rng.standard_normal((3, 2, 4)).astype(f32))
    emb_c, emb_t = pair(nn.Embedding(7, 3), torch.nn.Embedding(7, 3))
    ids = np.array([[1, 2, 1], [6, 0, 1]])
    np.testing.assert_array_equal(emb_c(ids).data, emb_t(torch.from_numpy(ids)).detach().numpy())


def test_losses_against_torch():
    x = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    w = rng.random(4) + 0.5
    tf = torch.nn.functional
    for kw_c, kw_t in (({}, {}), ({"weight": w}, {"weight": torch.from_numpy(w)}),
                       ({"label_smoothing": 0.2}, {"label_smoothing": 0.2}),
                       ({"reduction": "sum"}, {"reduction": "sum"})):
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        a = F.cross_entropy(xc, y, **kw_c)
        b = tf.cross_entropy(xt, torch.from_numpy(y), **kw_t)
        assert a.item() == pytest.approx(b.item(), rel=1e-10)
        a.backward()
        b.backward()
        np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-10)
    p, t = rng.uniform(0.01, 0.99, 6), rng.uniform(0, 1, 6)
    assert F.binary_cross_entropy(cr.tensor(p), cr.tensor(t)).item() == pytest.approx(
        tf.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(t)).item(), rel=1e-10)
    assert F.binary_cross_entropy_with_logits(cr.tensor(x[0]), cr.tensor(t[:4])).item() == pytest.approx(
        tf.binary_cross_entropy_with_logits(torch.from_numpy(x[0]), torch.from_numpy(t[:4])).item(), rel=1e-10)


@pytest.mark.parametrize("name,kw", [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.2}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
])
def test_five_optimiser_steps_against_torch(name, kw):
    theta = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(5)]
    pc = cr.tensor(theta.copy(), requires_grad=True)
    pt = torch.tensor(theta.copy(), requires_grad=True)
    oc = getattr(optim, name)([pc], **kw)
    ot = getattr(torch.optim, name)([pt], **kw)
    for g in grads:
        pc.grad = g
        pt.grad = torch.from_numpy(g.copy())
        oc.step()
        ot.step()
    np.testing.assert_allclose(pc.data, pt.detach().numpy(), rtol=1e-6, atol=1e-7)
