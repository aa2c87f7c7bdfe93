"""conv1d (conv2d over a height of one) and conv_transpose2d (one matmul + col2im, the adjoint of conv2d)."""

from __future__ import annotations

import numbers

import numpy as np

from ...core.batching_rules import shape_of
from ...ops.products import matmul_p
from .conv import _pair, _sides, check_groups, col2im_p, conv2d

__all__ = ["conv1d", "conv_transpose2d"]


def _single(v, what, op, minimum):
    """An int or a 1-tuple as a validated int."""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{op}: {what} must be an int or a 1-tuple of ints, got {v!r}")
    if v < minimum:
        raise ValueError(f"{op}: {what} must be >= {minimum}, got {v}")
    return int(v)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: ``x`` (N, C, L) or unbatched (C, L), ``weight`` (O, C/groups, k), ``bias`` (O,).

    ``padding`` is an int, 'valid' or 'same' (stride 1). Runs as conv2d over a
    height of one, so it shares its primitives, rules and speed.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.conv1d(cr.ones((2, 4, 10)), cr.ones((6, 2, 3)), dilation=2, groups=2, padding="same").shape
    (2, 6, 10)
    """
    if not hasattr(x, "dtype"):
        x = np.asarray(x)
    xs, ws = shape_of(x), shape_of(weight)
    if len(ws) != 3:
        raise ValueError(f"conv1d: weight must be 3-D (out_channels, in_channels/groups, kL), got shape {ws}")
    if len(xs) not in (2, 3):
        raise ValueError(f"conv1d: input must be 2-D (C, L) or 3-D (N, C, L), got shape {xs}")
    if isinstance(groups, numbers.Integral) and not isinstance(groups, bool) and xs[-2] != ws[1] * groups:
        raise ValueError(
            f"conv1d: input has {xs[-2]} channels (shape {xs}) but weight {ws} with groups={groups} "
            f"expects {ws[1] * groups}"
        )
    g = check_groups(groups, xs[-2], ws[0], "conv1d", f" (input shape {xs}, weight shape {ws})")
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding", "conv1d", 0))
    stride = (1, _single(stride, "stride", "conv1d", 1))
    dilation = (1, _single(dilation, "dilation", "conv1d", 1))
    span = dilation[1] * (ws[2] - 1) + 1
    if not isinstance(padding, str) and xs[-1] + 2 * padding[1] < span:
        raise ValueError(f"conv1d: the kernel ({ws[2]}, dilation {dilation[1]}) is longer than the padded input {xs}")
    x4 = x.reshape(xs[:-1] + (1, xs[-1]))
    out = conv2d(x4, weight.reshape(ws[:2] + (1, ws[2])), bias, stride, padding, dilation, g)
    os = shape_of(out)
    return out.reshape(os[:-2] + (os[-1],))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input), PyTorch's layouts.

    ``x`` (N, C_in, H, W) or unbatched, ``weight`` (C_in, C_out/groups, kH, kW),
    ``bias`` (C_out,). Output height (H - 1)·stride - 2·padding +
    dilation·(kH - 1) + output_padding + 1. Each input pixel's products with
    the kernel (one matmul) are added into the output by col2im.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> y = F.conv_transpose2d(cr.ones((1, 1, 2, 2)), cr.ones((1, 1, 2, 2)), stride=2)
    >>> y.shape, y.data.sum().item()
    ((1, 1, 4, 4), 16.0)
    """
    op = "conv_transpose2d"
    if not hasattr(x, "dtype"):
        x = np.asarray(x)
    xs, ws = shape_of(x), shape_of(weight)
    if len(ws) != 4:
        raise ValueError(f"{op}: weight must be 4-D (in_channels, out_channels/groups, kH, kW), got shape {ws}")
    if len(xs) not in (3, 4):
        raise ValueError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {xs}")
    unbatched = len(xs) == 3
    if unbatched:
        xs = (1,) + xs
        x = x.reshape(xs)
    n, c_in, h, w = xs
    g = check_groups(groups, ws[0], ws[1] * (groups if isinstance(groups, numbers.Integral) else 1), op,
                     f" (input shape {xs}, weight shape {ws})")
    if c_in != ws[0]:
        raise ValueError(f"{op}: input has {c_in} channels (shape {shape_of(x)}) but weight {ws} expects {ws[0]}")
    c_out = ws[1] * g
    if bias is not None and shape_of(bias) != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},) for weight {ws} and groups={g}, got {shape_of(bias)}")
    kernel = (ws[2], ws[3])
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    pad = _pair(padding, "padding", op, 0)
    out_pad = _pair(output_padding, "output_padding", op, 0)
    for a in (0, 1):
        if out_pad[a] >= stride[a]:
            # PyTorch also allows output_padding < dilation; with stride <= it no input pixel reaches those rows
            raise ValueError(f"{op}: output_padding {out_pad} must be smaller than stride {stride}")
    size = tuple((s - 1) * st - 2 * p + d * (k - 1) + op_ + 1
                 for s, st, p, d, k, op_ in zip((h, w), stride, pad, dilation, kernel, out_pad))
    if min(size) < 1:
        raise ValueError(f"{op}: output size {size} is not positive (input shape {xs}, weight {ws}, padding {pad})")
    if x.dtype.kind in "biu":
        x = np.asarray(x, dtype=weight.dtype)
    k = ws[1] * ws[2] * ws[3]
    if g == 1:
        cols = matmul_p(weight.reshape(c_in, k).T, x.reshape(n, c_in, h * w))  # (N, C_out·kH·kW, H·W)
    else:
        wg = weight.reshape(g, c_in // g, k).swapaxes(-1, -2)  # (G, C_out/G·kH·kW, C_in/G)
        cols = matmul_p(wg, x.reshape(n, g, c_in // g, h * w)).reshape(n, g * k, h * w)
    static = {"kernel": kernel, "stride": stride, "padding": _sides(pad), "in_shape": (n, c_out) + size}
    if dilation != (1, 1):
        static["dilation"] = dilation
    out = col2im_p(cols, **static)
    if bias is not None:
        out = out + bias.reshape(c_out, 1, 1)
    return out.reshape(out.shape[1:]) if unbatched else out
