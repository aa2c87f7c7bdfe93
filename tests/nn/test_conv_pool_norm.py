"""Conv1d, ConvTranspose2d, dilated/grouped Conv2d, AvgPool2d, AdaptiveAvgPool2d, MaxPool1d, BatchNorm2d, GroupNorm
and LayerNorm over trailing axes without torch: finite differences, closed forms, shapes, state-dict keys, errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.testing import gradcheck


def r(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


# finite differences, every input (forward and reverse mode)

@pytest.mark.parametrize("kw", [dict(dilation=2, groups=2, padding=1, stride=2), dict(dilation=(2, 1), padding="same"),
                                dict(groups=4, padding="same")], ids=str)
def test_conv2d_gradcheck(kw):
    k = 2 if kw.get("groups") == 4 else 3
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (r(1, 4, 6, 5), r(4, 4 // kw["groups"] if "groups" in kw
                     else 4, k, k, seed=1), r(4)))


def test_conv1d_gradcheck():
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, dilation=2, groups=2, padding="same"), (r(2, 4, 7), r(4, 2, 3),
                     r(4)))
    assert gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=1), (r(3, 8), r(2, 3, 2)))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=(2, 1), groups=2, dilation=(1, 2))], ids=str)
def test_conv_transpose2d_gradcheck(kw):
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), (r(1, 4, 3, 4), r(4, 1, 3, 2), r(2 if "groups"
                     in kw else 1)))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)], ids=str)
def test_avg_pool2d_gradcheck(kw):
    assert gradcheck(lambda x: F.avg_pool2d(x, **kw), (r(2, 2, 5, 6),))


def test_adaptive_and_max_pool1d_gradcheck():
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (r(2, 2, 7, 5),))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, 2), (r(2, 4, 4),))
    assert gradcheck(lambda x: F.max_pool1d(x, 3, stride=2, padding=1), (r(2, 3, 9),), piecewise_linear=True)


def test_norm_gradchecks():
    rm, rv = np.zeros(3), np.ones(3)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (r(3, 3, 2, 2), r(3), r(3)))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), (r(3, 3, 2, 2), r(3), r(3)))
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (r(2, 4, 3, 2), r(4), r(4)))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (3, 2), w, b), (r(2, 4, 3, 2), r(3, 2), r(3, 2)))


# closed forms

@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(stride=(2, 3), dilation=(2, 1), groups=2)],
                         ids=str)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(kw):
    # <conv2d(x, w), y> = <x, conv_transpose2d(y, w)> with the same stride, padding, dilation and groups
    x, w = r(2, 4, 9, 10), r(6, 4 // kw.get("groups", 1), 3, 3, seed=2)
    y = r(*F.conv2d(x, w, **kw).shape, seed=3)
    opad = tuple(x.shape[2 + a] - F.conv_transpose2d(y, w, **kw).shape[2 + a] for a in (0, 1))
    xt = F.conv_transpose2d(y, w, output_padding=opad, **kw)
    assert xt.shape == x.shape
    np.testing.assert_allclose((F.conv2d(x, w, **kw).data * y).sum(), (x * xt.data).sum(), rtol=1e-10)


def test_grouped_conv2d_is_separate_convolutions():
    x, w, b = r(2, 6, 7, 7), r(9, 2, 3, 3), r(9)
    y = F.conv2d(x, w, b, groups=3, dilation=2).data
    parts = [F.conv2d(x[:, 2 * g : 2 * g + 2], w[3 * g : 3 * g + 3], b[3 * g : 3 * g + 3], dilation=2).data
             for g in range(3)]
    np.testing.assert_allclose(y, np.concatenate(parts, axis=1), rtol=1e-12)


def test_dilated_conv2d_is_a_spread_kernel():
    x, w = r(1, 2, 9, 9), r(3, 2, 3, 3)
    spread = np.zeros((3, 2, 5, 5))
    spread[:, :, ::2, ::2] = w
    np.testing.assert_allclose(F.conv2d(x, w, dilation=2, padding="same").data,
                               F.conv2d(x, spread, padding=2).data, rtol=1e-12)


def test_conv1d_is_conv2d_of_height_one():
    x, w = r(2, 3, 10), r(4, 3, 3)
    np.testing.assert_allclose(F.conv1d(x, w, stride=2, padding=1).data,
                               F.conv2d(x[:, :, None], w[:, :, None], stride=(1, 2), padding=(0, 1)).data[:, :, 0])


def test_pools_closed_forms():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    np.testing.assert_allclose(F.avg_pool2d(np.ones((1, 2, 5, 5)), 3, 2, 1, count_include_pad=False).data, 1.0)
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 3).data[0, 0], [[7.0, 10.0], [25.0, 28.0]])
    # corner window of 3×3 with padding 1: 4 real pixels (0, 1, 6, 7) over 9 or over 4
    assert F.avg_pool2d(x, 3, 2, 1).data[0, 0, 0, 0] == pytest.approx(14 / 9)
    assert F.avg_pool2d(x, 3, 2, 1, count_include_pad=False).data[0, 0, 0, 0] == pytest.approx(3.5)
    # ceil_mode keeps a last window of 5 rows → 2 real rows
    assert F.avg_pool2d(np.ones((1, 1, 5, 5)), 2, ceil_mode=True).shape == (1, 1, 3, 3)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).data.ravel(), [17.5])
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 3).data, F.avg_pool2d(x, 2).data)
    # 5 rows into 3: windows [0, 2), [1, 4), [3, 5)
    col = F.adaptive_avg_pool2d(np.arange(5.0).reshape(1, 1, 5, 1), (3, 1)).data.ravel()
    np.testing.assert_allclose(col, [0.5, 2.0, 3.5])
    np.testing.assert_allclose(F.max_pool1d(np.array([[[1.0, 3.0, 2.0, 0.0, 5.0, 4.0]]]), 2, 2).data, [[[3, 2, 5]]])


def test_batch_norm2d_matches_batch_norm1d_over_flattened_pixels():
    x = r(4, 3, 5, 2)
    a, b = nn.BatchNorm2d(3, dtype=np.float64), nn.BatchNorm1d(3, dtype=np.float64)
    for step in range(3):
        np.testing.assert_allclose(a(x + step).data.reshape(4, 3, 10), b((x + step).reshape(4, 3, 10)).data, rtol=1e-12)
    np.testing.assert_allclose(a.running_var.data, b.running_var.data, rtol=1e-12)
    assert int(a.num_batches_tracked.data) == 3
    # by hand: running_mean after one step = 0.1 · batch mean; running_var = 0.9 + 0.1 · unbiased var
    c = nn.BatchNorm2d(3, dtype=np.float64)
    c(x)
    np.testing.assert_allclose(c.running_mean.data, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(c.running_var.data, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    c.eval()
    expect = (x - c.running_mean.data[:, None, None]) / np.sqrt(c.running_var.data[:, None, None] + 1e-5)
    np.testing.assert_allclose(c(x).data, expect, rtol=1e-10)


def test_group_norm_extremes():
    x = r(2, 4, 3, 3)
    inst = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(nn.GroupNorm(4, 4, dtype=np.float64)(x).data, inst, rtol=1e-10)
    np.testing.assert_allclose(nn.GroupNorm(1, 4, dtype=np.float64)(x).data,
                               F.layer_norm(x, (4, 3, 3)).data, rtol=1e-10)


def test_layer_norm_over_two_axes():
    x = r(2, 3, 4)
    expect = (x - x.mean(axis=(1, 2), keepdims=True)) / np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-5)
    ln = nn.LayerNorm((3, 4), dtype=np.float64)
    np.testing.assert_allclose(ln(x).data, expect, rtol=1e-10)
    assert ln.weight.shape == (3, 4)


# shapes and state-dict keys (PyTorch's, written out)

def test_shapes_and_state_dict_keys():
    assert nn.Conv1d(4, 6, 3, groups=2).weight.shape == (6, 2, 3)
    assert list(nn.Conv1d(4, 6, 3).state_dict()) == ["weight", "bias"]
    assert nn.Conv2d(4, 8, 3, groups=4, bias=False).weight.shape == (8, 1, 3, 3)
    assert list(nn.Conv2d(4, 8, 3, bias=False).state_dict()) == ["weight"]
    t = nn.ConvTranspose2d(4, 6, (2, 3), groups=2)
    assert t.weight.shape == (4, 3, 2, 3) and t.bias.shape == (6,)
    assert list(t.state_dict()) == ["weight", "bias"]
    assert t(cr.ones((1, 4, 5, 5))).shape == (1, 6, 6, 7)
    assert nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)(cr.ones((3, 4, 4))).shape == (2, 8, 8)
    assert list(nn.BatchNorm2d(3).state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                                    "num_batches_tracked"]
    assert list(nn.BatchNorm2d(3, affine=False, track_running_stats=False).state_dict()) == []
    assert list(nn.GroupNorm(2, 4).state_dict()) == ["weight", "bias"]
    assert list(nn.GroupNorm(2, 4, affine=False).state_dict()) == []
    assert nn.Conv1d(2, 3, 4, padding="same")(cr.ones((2, 9))).shape == (3, 9)
    assert nn.MaxPool1d(2)(cr.ones((2, 3, 9))).shape == (2, 3, 4)
    assert nn.AdaptiveAvgPool2d((None, 2))(cr.ones((2, 3, 5, 7))).shape == (2, 3, 5, 2)


def test_fan_in_initialisation_bounds():
    # PyTorch: U(±1/√fan_in), fan_in = weight.shape[1]·kernel (in/groups for Conv, out/groups for ConvTranspose)
    t = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert np.abs(t.bias.data).max() <= 1 / np.sqrt(3 * 9)
    c = nn.Conv2d(8, 8, 3, groups=4)
    assert np.abs(c.bias.data).max() <= 1 / np.sqrt(2 * 9)


# errors name the module or function, the argument and the shapes

def test_errors():
    with pytest.raises(ValueError, match=r"Conv2d: groups=3 must divide in_channels=4 and out_channels=6"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match=r"Conv1d: groups=4 .*out_channels=6"):
        nn.Conv1d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: groups=3 must divide in_channels=4"):
        nn.ConvTranspose2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match=r"conv1d: input must be 2-D \(C, L\) or 3-D .* got shape \(2, 3, 4, 5\)"):
        nn.Conv1d(3, 2, 2)(cr.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"conv2d: input must be 3-D .* got shape \(3, 4\)"):
        nn.Conv2d(3, 2, 2)(cr.ones((3, 4)))
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels .* groups=2 expects 4"):
        F.conv2d(cr.ones((1, 3, 5, 5)), cr.ones((4, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding \(2, 2\) must be smaller than stride"):
        F.conv_transpose2d(cr.ones((1, 1, 3, 3)), cr.ones((1, 1, 3, 3)), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"padding='same' is not supported for strided"):
        nn.Conv1d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, 3, H, W\), got \(2, 3, 4\)"):
        nn.BatchNorm2d(3)(cr.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"GroupNorm: num_groups=3 must divide num_channels=4"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"GroupNorm: expected input of shape \(N, 4, \*\), got \(2, 3, 5\)"):
        nn.GroupNorm(2, 4)(cr.ones((2, 3, 5)))
    with pytest.raises(ValueError, match=r"avg_pool2d: input must be 3-D .* got shape \(4, 4\)"):
        nn.AvgPool2d(2)(cr.ones((4, 4)))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: input must be 3-D .* got shape \(4,\)"):
        nn.AdaptiveAvgPool2d(2)(cr.ones((4,)))
    with pytest.raises(ValueError, match=r"max_pool1d: input must be 2-D .* got shape \(1, 2, 3, 4\)"):
        nn.MaxPool1d(2)(cr.ones((1, 2, 3, 4)))
    with pytest.raises(ValueError, match=r"layer_norm: input shape \(2, 3\) does not end with normalized_shape"):
        F.layer_norm(cr.ones((2, 3)), (2, 3, 4))


def test_vmap_and_grad_through_new_layers():
    # per-example gradients through grouped/dilated convs and pools use the primitives' batching rules
    w = r(4, 2, 3, 3)
    xs = r(3, 4, 7, 7)

    def loss(w, x):
        h = F.conv2d(x[None], w, dilation=2, groups=2, padding="same")
        return F.adaptive_avg_pool2d(F.avg_pool2d(h, 2), 1).sum()

    per = np.asarray(cr.vmap(cr.grad(loss), in_axes=(None, 0))(w, xs))
    assert per.shape == (3,) + w.shape
    for i in range(3):
        np.testing.assert_allclose(per[i], np.asarray(cr.grad(loss)(w, xs[i])), rtol=1e-10)
