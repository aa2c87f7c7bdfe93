"""cr.nn.functional against closed forms, references written in plain NumPy, and finite differences."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.testing import gradcheck

rng = np.random.default_rng(0)


def t(a, grad=False, dtype=None):
    return cr.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def log_softmax_ref(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# ---- cross_entropy and nll_loss --------------------------------------------------------
def test_cross_entropy_value_and_gradient_closed_form():
    x = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    xt = t(x, grad=True)
    loss = F.cross_entropy(xt, y)
    expect = -log_softmax_ref(x)[np.arange(6), y].mean()
    assert loss.item() == pytest.approx(expect, rel=1e-12)
    loss.backward()
    p = np.exp(log_softmax_ref(x))
    p[np.arange(6), y] -= 1
    np.testing.assert_allclose(xt.grad.data, p / 6, rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    x = t([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 0.0]], grad=True)
    loss = F.cross_entropy(x, np.array([0, 0]))
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(5e4, rel=1e-9)
    loss.backward()
    assert np.isfinite(x.grad.data).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_reductions(reduction):
    x = rng.standard_normal((5, 3))
    y = rng.integers(0, 3, 5)
    per = -log_softmax_ref(x)[np.arange(5), y]
    got = F.cross_entropy(t(x), y, reduction=reduction).data
    expect = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(got, expect, rtol=1e-12)


def test_cross_entropy_class_weights_and_ignore_index_follow_pytorch():
    x = rng.standard_normal((6, 3))
    y = np.array([0, 2, 1, -100, 2, 0])
    w = np.array([0.2, 1.0, 3.0])
    keep = y != -100
    lp = log_softmax_ref(x)
    yk = y[keep]
    expect = -(w[yk] * lp[keep][np.arange(keep.sum()), yk]).sum() / w[yk].sum()
    assert F.cross_entropy(t(x), y, weight=w).item() == pytest.approx(expect, rel=1e-12)
    none = F.cross_entropy(t(x), y, weight=w, reduction="none").data
    assert none[3] == 0.0 and none.shape == (6,)
    assert gradcheck(lambda a: F.cross_entropy(a, y, weight=w), (x,))


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_an_ignore_index_that_is_a_class_is_ignored_without_weights(loss):
    # ignore_index=0 (say, a padding token) is a valid class: every label in range must not skip the look for it
    x = rng.standard_normal((5, 3))
    y = np.array([0, 2, 1, 0, 2])
    keep = y != 0
    lp = log_softmax_ref(x)
    per_row = -lp[np.arange(5), y] if loss == "cross_entropy" else -x[np.arange(5), y]
    fn = getattr(F, loss)
    assert fn(t(x), y, ignore_index=0, reduction="sum").item() == pytest.approx(per_row[keep].sum(), rel=1e-12)
    assert fn(t(x), y, ignore_index=0).item() == pytest.approx(per_row[keep].mean(), rel=1e-12)
    np.testing.assert_allclose(fn(t(x), y, ignore_index=0, reduction="none").data, np.where(keep, per_row, 0.0),
                               rtol=1e-12)
    xt = t(x, grad=True)
    fn(xt, y, ignore_index=0).backward()
    np.testing.assert_array_equal(xt.grad.data[~keep], 0.0)


def test_cross_entropy_label_smoothing_formula():
    x = rng.standard_normal((4, 5))
    y = rng.integers(0, 5, 4)
    eps = 0.1
    lp = log_softmax_ref(x)
    expect = ((1 - eps) * -lp[np.arange(4), y] + eps * -lp.mean(axis=1)).mean()
    assert F.cross_entropy(t(x), y, label_smoothing=eps).item() == pytest.approx(expect, rel=1e-12)
    assert gradcheck(lambda a: F.cross_entropy(a, y, label_smoothing=eps), (x,))


def test_cross_entropy_probability_targets_and_extra_axes():
    x = rng.standard_normal((3, 4))
    p = rng.dirichlet(np.ones(4), 3)
    expect = -(p * log_softmax_ref(x)).sum(axis=1).mean()
    assert F.cross_entropy(t(x), p).item() == pytest.approx(expect, rel=1e-12)
    # (N, C, L) logits with (N, L) labels: the class axis is 1, as in PyTorch
    x3 = rng.standard_normal((2, 4, 3))
    y3 = rng.integers(0, 4, (2, 3))
    lp = log_softmax_ref(x3, axis=1)
    expect = -np.take_along_axis(lp, y3[:, None, :], axis=1)[:, 0].mean()
    assert F.cross_entropy(t(x3), y3).item() == pytest.approx(expect, rel=1e-12)
    assert F.cross_entropy(t(x3), y3, reduction="none").shape == (2, 3)
    assert gradcheck(lambda a: F.cross_entropy(a, y3), (x3,))
    # unbatched: (C,) logits and a 0-d label
    assert F.cross_entropy(t(x[0]), np.array(2)).item() == pytest.approx(-log_softmax_ref(x[0])[2])


def test_cross_entropy_bad_labels_are_clear_errors():
    x = t(np.zeros((3, 10)))
    with pytest.raises(ValueError, match=r"label 12 .*position 1.*10 classes.*\[0, 9\]"):
        F.cross_entropy(x, np.array([1, 12, 3]))
    with pytest.raises(IndexError, match="label -1"):  # PyTorch raises IndexError: both work
        F.cross_entropy(x, np.array([1, -1, 3]))
    with pytest.raises(TypeError, match="integer class labels"):
        F.cross_entropy(x, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="target shape"):
        F.cross_entropy(x, np.array([1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, np.array([1, 2, 3]), reduction="avg")


def test_nll_loss_matches_cross_entropy_on_log_softmax():
    x = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    a = F.nll_loss(F.log_softmax(t(x), axis=1), y).item()
    b = F.cross_entropy(t(x), y).item()
    assert a == pytest.approx(b, rel=1e-12)
    assert gradcheck(lambda v: F.nll_loss(v, y, reduction="sum"), (x,))


def test_losses_keep_float32():
    x = t(rng.standard_normal((4, 3)), grad=True, dtype=np.float32)
    for loss in (F.cross_entropy(x, np.array([0, 1, 2, 0])), F.nll_loss(x, np.array([0, 1, 2, 0])),
                 F.mse_loss(x, np.zeros((4, 3), np.float32)),
                 F.binary_cross_entropy(F.sigmoid(x), np.ones((4, 3), np.float32)),
                 F.binary_cross_entropy_with_logits(x, np.ones((4, 3), np.float32))):
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


# ---- regression and binary losses ---------------------------------------------------------
def test_mse_loss():
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    assert F.mse_loss(t(a), t(b)).item() == pytest.approx(((a - b) ** 2).mean())
    assert F.mse_loss(t(a), t(b), reduction="sum").item() == pytest.approx(((a - b) ** 2).sum())
    assert gradcheck(lambda u, v: F.mse_loss(u, v), (a, b))
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        F.mse_loss(t(np.zeros((3, 1))), t(np.zeros(3)))


def test_binary_cross_entropy_clamps_like_pytorch():
    p = t([0.0, 1.0, 0.5], grad=True)
    y = t([0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, np.log(2)], atol=1e-12)
    loss.sum().backward()
    assert np.isfinite(p.grad.data).all()
    # log terms are clamped at -100: a certain, wrong prediction costs 100
    assert F.binary_cross_entropy(t([0.0]), t([1.0])).item() == pytest.approx(100.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(t([1.5]), t([1.0]))
    pv, yv = rng.uniform(0.1, 0.9, 5), rng.uniform(0, 1, 5)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), (pv, yv))


def test_bce_with_logits_is_exact_at_zero_and_stable():
    z = t([0.0, 0.0, 800.0, -800.0], grad=True)
    y = t([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    assert loss.item() == pytest.approx(2 * np.log(2) + 1600.0)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [-0.5, 0.5, 1.0, -1.0])  # sigmoid(z) - y
    zv, yv = rng.standard_normal(4), rng.uniform(0, 1, 4)
    pw = np.array([1.0, 2.0, 0.5, 3.0])
    ref = -(pw * yv * np.log(1 / (1 + np.exp(-zv))) + (1 - yv) * np.log(1 - 1 / (1 + np.exp(-zv))))
    got = F.binary_cross_entropy_with_logits(t(zv), t(yv), pos_weight=pw, reduction="none").data
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, yv, pos_weight=pw), (zv,))


# ---- linear, conv2d, max_pool2d -------------------------------------------------------------
def conv_ref(x, w, b, stride, pad):
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + (0 if b is None else b[None, :, None, None])


@pytest.mark.parametrize("stride,pad", [(1, 0), (1, 1), (2, 1), (2, 0)])
def test_conv2d_matches_direct_loop_and_gradcheck(stride, pad):
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    got = F.conv2d(t(x), t(w), t(b), stride=stride, padding=pad).data
    np.testing.assert_allclose(got, conv_ref(x, w, b, stride, pad), rtol=1e-10, atol=1e-12)
    xs, ws = x[:1, :2, :4, :4], w[:2, :2]
    assert gradcheck(lambda a, k, c: F.conv2d(a, k, c, stride=stride, padding=pad), (xs, ws, b[:2]))


def test_conv2d_same_padding_and_errors():
    x = t(np.ones((1, 1, 5, 5)))
    assert F.conv2d(x, t(np.ones((1, 1, 3, 3))), padding="same").shape == (1, 1, 5, 5)
    with pytest.raises(ValueError, match="3 channels.*expects 2"):
        F.conv2d(t(np.ones((1, 3, 5, 5))), t(np.ones((1, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(5, 5\)"):
        F.conv2d(t(np.ones((5, 5))), t(np.ones((1, 3, 3, 3))))
    with pytest.raises(ValueError, match="not supported for strided"):
        F.conv2d(x, t(np.ones((1, 1, 3, 3))), stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv2d: padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv2d: padding must be"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match=r"max_pool2d: input must be 3-D .* got shape \(5, 5\)"):
        F.max_pool2d(t(np.ones((5, 5))), 2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(t(np.ones((1, 1, 2, 2))), t(np.ones((1, 1, 3, 3))))


def test_same_padding_with_an_even_kernel_puts_the_extra_row_and_column_last():
    # kernel 4 (k - 1 = 3 rows): 1 above, 2 below; kernel 2: 0 left, 1 right. A one-hot kernel reads the padding.
    x = rng.standard_normal((1, 1, 5, 6))
    w = np.zeros((1, 1, 4, 2))
    w[0, 0, 0, 0] = 1.0  # reads x_padded[i, j]: x shifted down by the top padding (1), right by the left (0)
    y = F.conv2d(t(x), t(w), padding="same").data
    assert y.shape == (1, 1, 5, 6)
    expect = np.zeros((5, 6))
    expect[1:, :] = x[0, 0, :-1, :]
    np.testing.assert_array_equal(y[0, 0], expect)
    w[...] = 0
    w[0, 0, 3, 1] = 1.0  # the bottom-right tap reads x[i + 2, j + 1]: the last 2 rows and 1 column read padding
    y = F.conv2d(t(x), t(w), padding="same").data
    expect = np.zeros((5, 6))
    expect[:3, :5] = x[0, 0, 2:, 1:]
    np.testing.assert_array_equal(y[0, 0], expect)


def test_unbatched_conv_and_pool_equal_a_batch_of_one():
    x = rng.standard_normal((2, 5, 6)).astype(np.float32)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    xt = cr.tensor(x, requires_grad=True)
    y = F.max_pool2d(conv(xt), 2)
    assert y.shape == (3, 2, 3) and y.dtype == np.float32
    y.sum().backward()
    xb = cr.tensor(x[None], requires_grad=True)
    yb = F.max_pool2d(conv(xb), 2)
    np.testing.assert_array_equal(y.data, yb.data[0])
    grad_w = conv.weight.grad.data.copy()
    conv.zero_grad()
    yb.sum().backward()
    np.testing.assert_array_equal(xt.grad.data, xb.grad.data[0])
    np.testing.assert_array_equal(grad_w, conv.weight.grad.data)
    assert nn.MaxPool2d(2)(x).shape == (2, 2, 3)


def test_im2col_col2im_are_adjoint():
    x = rng.standard_normal((2, 3, 5, 6))
    cols = F.im2col(x, 3, stride=2, padding=1)
    g = rng.standard_normal(cols.shape)
    back = F.col2im(g, x.shape, 3, stride=2, padding=1)
    assert float(np.sum(cols.data * g)) == pytest.approx(float(np.sum(x * back.data)), rel=1e-10)


def test_max_pool2d_values_ties_and_gradient():
    x = rng.permutation(36).reshape(1, 1, 6, 6).astype(np.float64)
    got = F.max_pool2d(t(x), 2).data
    np.testing.assert_array_equal(got, x.reshape(1, 1, 3, 2, 3, 2).max(axis=(3, 5)))
    got = F.max_pool2d(t(x), 3, stride=2, padding=1).data
    assert got.shape == (1, 1, 3, 3)
    # the gradient reaches each window's maximum only; a tie sends it to the first (PyTorch)
    z = t(np.zeros((1, 1, 4, 4)), grad=True)
    F.max_pool2d(z, 2).sum().backward()
    assert z.grad.data.sum() == 4.0 and z.grad.data[0, 0, 0, 0] == 1.0
    xs = rng.permutation(50).reshape(1, 2, 5, 5) * 0.1
    assert gradcheck(lambda a: F.max_pool2d(a, 2, stride=1), (xs,))
    assert gradcheck(lambda a: F.max_pool2d(a, 3, stride=2, padding=1), (xs,))


def test_linear_errors_name_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        F.linear(t(np.ones((2, 3))), t(np.ones((4, 5))))
    with pytest.raises(ValueError, match="bias"):
        F.linear(t(np.ones((2, 3))), t(np.ones((4, 3))), t(np.ones(3)))


# ---- activations and dropout ------------------------------------------------------------------
def test_activations():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(F.relu(t(x)).data, [0, 0, 3])
    np.testing.assert_allclose(F.sigmoid(t(x)).data, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(F.tanh(t(x)).data, np.tanh(x))
    np.testing.assert_allclose(F.softmax(t(x)).data, np.exp(x) / np.exp(x).sum())
    np.testing.assert_allclose(F.log_softmax(t(x)).data, log_softmax_ref(x))
    np.testing.assert_allclose(F.leaky_relu(t(x), 0.1).data, [-0.2, 0, 3])


def test_dropout_scales_kept_entries_and_is_seeded():
    x = t(np.ones((200, 50), np.float32))
    cr.random.seed(3)
    a = F.dropout(x, 0.3).data
    cr.random.seed(3)
    b = F.dropout(x, 0.3).data
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((a == 0).mean() - 0.3) < 0.02
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0).data == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
    xg = t(np.ones(10), grad=True)
    cr.random.seed(0)
    out = F.dropout(xg, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(xg.grad.data, out.data)  # d(x·mask)/dx = mask


def test_hessian_vector_product_through_a_small_cnn():
    transforms = pytest.importorskip("chainrule.transforms")
    x = rng.random((2, 1, 4, 4))
    y = np.array([0, 2])
    w_lin = rng.standard_normal((3, 8)) * 0.3

    def loss(wc):
        h = F.max_pool2d(cr.tanh(F.conv2d(cr.tensor(x), wc, padding=1)), 2)
        return F.cross_entropy(F.linear(h.reshape(2, 8), cr.tensor(w_lin)), y)

    w = rng.standard_normal((2, 1, 3, 3))
    v = rng.standard_normal(w.shape)
    _, (hv,) = transforms.hvp(loss, (w,), (v,))
    grad = transforms.grad(loss)
    eps = 1e-5
    numeric = (np.asarray(grad(w + eps * v)) - np.asarray(grad(w - eps * v))) / (2 * eps)
    np.testing.assert_allclose(np.asarray(hv), numeric, rtol=1e-4, atol=1e-7)
