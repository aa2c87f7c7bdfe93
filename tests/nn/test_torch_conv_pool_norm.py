"""Conv1d, ConvTranspose2d, dilated/grouped Conv2d, the new pools and norms against PyTorch (skipped without torch).

Weights come from PyTorch's state_dict; outputs, input gradients and every parameter gradient
are compared in float64 (tight) and float32 (looser). test_conv_pool_norm.py checks the same
modules without torch (finite differences, closed forms, shapes, state-dict keys).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

tnn, tF = torch.nn, torch.nn.functional


def check(ours, theirs, x, seed=0, train_steps=1):
    """Load theirs' state_dict into ours; compare outputs, input and parameter gradients (and buffers)."""
    rng = np.random.default_rng(seed)
    theirs = theirs.to(torch.float64 if x.dtype == np.float64 else torch.float32)
    with torch.no_grad():  # norms start at ones and zeros: randomise so that mistakes show
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, tuple(p.shape))))
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    tight = x.dtype == np.float64
    tol = {"rtol": 1e-9, "atol": 1e-10} if tight else {"rtol": 2e-4, "atol": 2e-5}
    for step in range(train_steps):
        xs = x + step
        xc, xt = cr.tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
        yc, yt = ours(xc), theirs(xt)
        np.testing.assert_allclose(yc.data, yt.detach().numpy(), err_msg="forward", **tol)
        assert yc.dtype == x.dtype
        w = rng.standard_normal(yc.shape).astype(x.dtype)
        (yc * w).sum().backward()
        (yt * torch.from_numpy(w)).sum().backward()
        np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), err_msg="input grad", **tol)
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), err_msg=f"grad of {name}", **tol)
    for (name, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(np.asarray(b.data), tb.numpy(), err_msg=f"buffer {name}", **tol)


def x_of(shape, dtype=np.float64, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


CONV2D = [
    dict(dilation=2, groups=2, padding=1, stride=2),
    dict(dilation=(2, 1), padding="same"),
    dict(groups=4, padding="same", kernel_size=4),
    dict(padding="valid", dilation=3, bias=False),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", CONV2D, ids=str)
def test_conv2d_dilation_groups_same(kw, dtype):
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    check(nn.Conv2d(4, 8, k, dtype=dtype, **kw), tnn.Conv2d(4, 8, k, **kw), x_of((2, 4, 9, 10), dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=2), dict(dilation=2, groups=2, padding="same"),
                                dict(groups=4, kernel_size=2, padding="same")], ids=str)
def test_conv1d(kw, dtype):
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    check(nn.Conv1d(4, 6 if kw.get("groups", 1) != 4 else 8, k, dtype=dtype, **kw),
          tnn.Conv1d(4, 6 if kw.get("groups", 1) != 4 else 8, k, **kw), x_of((3, 4, 11), dtype))


def test_conv1d_unbatched():
    check(nn.Conv1d(3, 2, 2, dtype=np.float64), tnn.Conv1d(3, 2, 2), x_of((3, 7)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [
    dict(),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 3), padding=(1, 0), output_padding=(0, 2), groups=2, dilation=(1, 2)),
    dict(stride=3, dilation=2, bias=False),
], ids=str)
def test_conv_transpose2d(kw, dtype):
    check(nn.ConvTranspose2d(4, 6, 3, dtype=dtype, **kw), tnn.ConvTranspose2d(4, 6, 3, **kw),
          x_of((2, 4, 5, 6), dtype))


def test_conv_transpose2d_unbatched():
    check(nn.ConvTranspose2d(2, 3, (2, 3), stride=2, dtype=np.float64), tnn.ConvTranspose2d(2, 3, (2, 3), stride=2),
          x_of((2, 4, 3)))


@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, divisor_override=3),
], ids=str)
def test_avg_pool2d(kw):
    check(nn.AvgPool2d(**kw), tnn.AvgPool2d(**kw), x_of((2, 3, 7, 8)))
    check(nn.AvgPool2d(**kw), tnn.AvgPool2d(**kw), x_of((3, 8, 8), np.float32))


@pytest.mark.parametrize("size", [1, (3, 2), (4, 4), (None, 3), (7, 8), 5])
def test_adaptive_avg_pool2d(size):
    check(nn.AdaptiveAvgPool2d(size), tnn.AdaptiveAvgPool2d(size), x_of((2, 3, 7, 8)))
    check(nn.AdaptiveAvgPool2d(size), tnn.AdaptiveAvgPool2d(size), x_of((3, 8, 8), np.float32))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=1)], ids=str)
def test_max_pool1d(kw):
    check(nn.MaxPool1d(**kw), tnn.MaxPool1d(**kw), x_of((2, 3, 11)))
    check(nn.MaxPool1d(**kw), tnn.MaxPool1d(**kw), x_of((3, 10), np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [dict(), dict(momentum=None), dict(affine=False), dict(momentum=0.3, eps=1e-3),
                                dict(track_running_stats=False)], ids=str)
def test_batch_norm2d(kw, dtype):
    ours, theirs = nn.BatchNorm2d(3, dtype=dtype, **kw), tnn.BatchNorm2d(3, **kw)
    check(ours, theirs, x_of((4, 3, 5, 6), dtype), train_steps=3)
    ours.eval()
    theirs.eval()
    for p in ours.parameters():
        p.grad = None
    theirs.zero_grad(set_to_none=True)
    check(ours, theirs, x_of((2, 3, 4, 4), dtype, seed=5))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("args", [(2, 4), (1, 4), (4, 4), (3, 6, 1e-3, False)], ids=str)
def test_group_norm(args, dtype):
    check(nn.GroupNorm(*args, dtype=dtype), tnn.GroupNorm(*args), x_of((3, args[1], 5, 4), dtype))
    check(nn.GroupNorm(*args, dtype=dtype), tnn.GroupNorm(*args), x_of((3, args[1], 7), dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)], ids=str)
def test_layer_norm_trailing_axes(shape, dtype):
    check(nn.LayerNorm(shape, dtype=dtype), tnn.LayerNorm(shape), x_of((5, 2, 3, 4), dtype))


def test_functional_forms():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 6, 6))
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    t = torch.from_numpy
    cases = [
        (F.batch_norm(x, rm, rv, w, b), tF.batch_norm(t(x), t(rm), t(rv), t(w), t(b))),
        (F.group_norm(x, 2, w, b), tF.group_norm(t(x), 2, t(w), t(b))),
        (F.layer_norm(x, (6, 6)), tF.layer_norm(t(x), (6, 6))),
        (F.avg_pool2d(x, 3, 2, 1), tF.avg_pool2d(t(x), 3, 2, 1)),
        (F.adaptive_avg_pool2d(x, 4), tF.adaptive_avg_pool2d(t(x), 4)),
        (F.max_pool1d(x[0], 2), tF.max_pool1d(t(x[0]), 2)),
        (F.conv1d(x[:, :, 0], x[:3, :2, :2, 0], groups=2, dilation=2),
         tF.conv1d(t(x[:, :, 0]), t(x[:3, :2, :2, 0].copy()), groups=2, dilation=2)),
        (F.conv2d(x, x[:2, :2, :3, :3], dilation=(1, 2), groups=2, padding="same"),
         tF.conv2d(t(x), t(x[:2, :2, :3, :3].copy()), dilation=(1, 2), groups=2, padding="same")),
        (F.conv_transpose2d(x, x[0, :, None, :2, :3], stride=2, groups=2, output_padding=1),
         tF.conv_transpose2d(t(x), t(x[0, :, None, :2, :3].copy()), stride=2, groups=2, output_padding=1)),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10, atol=1e-12)
    # the running statistics move as torch's in training mode
    rm2, rv2, trm, trv = rm.copy(), rv.copy(), t(rm.copy()), t(rv.copy())
    F.batch_norm(x, rm2, rv2, training=True, momentum=0.2)
    tF.batch_norm(t(x), trm, trv, training=True, momentum=0.2)
    np.testing.assert_allclose(rm2, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv2, trv.numpy(), rtol=1e-12)
