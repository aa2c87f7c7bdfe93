"""2-D max pooling: a strided-view forward and an argmax-routing scatter/gather pair for its rules."""

from __future__ import annotations

import numpy as np

from ...core.primitive import Primitive
from ...core.shapes import shape_of
from .conv import _fold_batch, _padded, _pair, _sides, _unpadded, _window_args, _windows

__all__ = ["max_pool2d"]


def _fill_min(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _tiled(in_shape, kernel, stride, padding):
    """True when the windows tile the image exactly: no overlap, no gap, no padding."""
    no_padding = padding == ((0, 0), (0, 0))
    return kernel == stride and no_padding and in_shape[2] % kernel[0] == 0 and in_shape[3] % kernel[1] == 0


def _max_pool(x, kernel, stride, padding):
    if _tiled(x.shape, kernel, stride, padding):
        # A reshape exposes the windows; reduce the contiguous axis first (two passes for 2×2).
        n, c, h, w = x.shape
        kh, kw = kernel
        v = x.reshape(n, c, h // kh, kh, w // kw, kw)
        rows = v[..., 0]
        if kw > 1:
            rows = np.maximum(rows, v[..., 1])
            for j in range(2, kw):
                np.maximum(rows, v[..., j], out=rows)
        out = rows[:, :, :, 0]
        if kh > 1:
            out = np.maximum(out, rows[:, :, :, 1])
            for i in range(2, kh):
                np.maximum(out, rows[:, :, :, i], out=out)
        return np.ascontiguousarray(out)
    _, _, wins = _windows(x.shape, kernel, stride, padding)
    xp = _padded(x, padding, _fill_min(x.dtype))
    out = xp[wins[0][2]].copy()
    for _, _, sl in wins[1:]:
        np.maximum(out, xp[sl], out=out)
    return out


def _routes(x, out, kernel, stride, padding):
    """Yield (slice, mask) per kernel offset: mask marks the outputs whose window maximum sits at that offset.

    NOTE: a tie goes to the first maximum in row-major window order, as in PyTorch, so each output's
    gradient reaches exactly one input.
    """
    _, _, wins = _windows(x.shape, kernel, stride, padding)
    xp = _padded(x, padding, _fill_min(x.dtype))
    free = np.ones(out.shape, dtype=bool)
    hit = np.empty(out.shape, dtype=bool)
    for _, _, sl in wins:
        np.equal(xp[sl], out, out=hit)
        hit &= free
        free ^= hit  # hit ⊆ free, so this clears the windows just routed
        yield sl, hit


def _scatter(g, x, out, kernel, stride, padding):
    # x̄[window position of the max] = ḡ; zero elsewhere
    n, c, h, w = x.shape
    (top, bottom), (left, right) = padding
    tiled = _tiled(x.shape, kernel, stride, padding)
    gx = (np.empty if tiled else np.zeros)((n, c, h + top + bottom, w + left + right), dtype=g.dtype)
    for sl, hit in _routes(x, out, kernel, stride, padding):
        if tiled:
            np.multiply(g, hit, out=gx[sl])  # windows tile the image: every pixel is written once
        else:
            gx[sl] += g * hit  # one strided slice per kernel offset: no pixel loop, no scatter-add
    return _unpadded(gx, padding, x.shape)


def _gather(y, x, out, kernel, stride, padding):
    # the transpose of _scatter: read y at each window's max
    yp = _padded(y, padding)
    res = np.zeros(out.shape, dtype=y.dtype)
    for sl, hit in _routes(x, out, kernel, stride, padding):
        res += yp[sl] * hit
    return res


def _no_grad_rule(g, ans, *args, **kw):
    # the routing is piecewise constant in x (and in the saved output): zero derivative
    return None


def _zero_tangent(t, ans, *args, **kw):
    return ans * 0


# scatter and gather are linear in their first input and each other's transpose.
max_pool2d_scatter_p = Primitive(
    "max_pool2d_scatter",
    _scatter,
    vjp=(lambda g, ans, gy, x, out, **kw: max_pool2d_gather_p(g, x, out, **kw), _no_grad_rule, _no_grad_rule),
    jvp=(lambda t, ans, gy, x, out, **kw: max_pool2d_scatter_p(t, x, out, **kw), _zero_tangent, _zero_tangent),
    save=("args",),
    batch=_fold_batch,
)
max_pool2d_gather_p = Primitive(
    "max_pool2d_gather",
    _gather,
    vjp=(lambda g, ans, y, x, out, **kw: max_pool2d_scatter_p(g, x, out, **kw), _no_grad_rule, _no_grad_rule),
    jvp=(lambda t, ans, y, x, out, **kw: max_pool2d_gather_p(t, x, out, **kw), _zero_tangent, _zero_tangent),
    save=("args",),
    batch=_fold_batch,
)

# y = max over each window: x̄ = ḡ routed to the window's (first) maximum; ẏ = ẋ read there
max_pool2d_p = Primitive(
    "max_pool2d",
    _max_pool,
    vjp=(lambda g, ans, x, **kw: max_pool2d_scatter_p(g, x, ans, **kw),),
    jvp=(lambda t, ans, x, **kw: max_pool2d_gather_p(t, x, ans, **kw),),
    save=("args", "ans"),
    batch=_fold_batch,
    call_args=_window_args(lambda kw: kw["kernel"]),
)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over (kH, kW) windows of (N, C, H, W) or unbatched (C, H, W) input; ``stride`` defaults to ``kernel_size``.

    ``padding`` (at most half the kernel, as in PyTorch) pads with -inf, so a
    padded entry is never a window's maximum.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> x = cr.tensor(np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4))
    >>> F.max_pool2d(x, 2).data[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    >>> F.max_pool2d(x[0], 2).shape  # unbatched
    (1, 2, 2)
    """
    if dilation not in (1, (1, 1)) or ceil_mode or return_indices:
        raise NotImplementedError("max_pool2d: dilation, ceil_mode and return_indices are not supported")
    shape = shape_of(x)
    if len(shape) not in (3, 4):
        raise ValueError(f"max_pool2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {shape}")
    kernel = _pair(kernel_size, "kernel_size", "max_pool2d", 1)
    stride = kernel if stride is None else _pair(stride, "stride", "max_pool2d", 1)
    padding = _pair(padding, "padding", "max_pool2d", 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"max_pool2d: padding {padding} must be at most half the kernel size {kernel}")
    if shape[-2] + 2 * padding[0] < kernel[0] or shape[-1] + 2 * padding[1] < kernel[1]:
        raise ValueError(f"max_pool2d: kernel {kernel} is larger than the padded input (input shape {shape})")
    if len(shape) == 3:  # PyTorch's unbatched input: a batch of one, squeezed again
        if not hasattr(x, "reshape"):
            x = np.asarray(x)
        out = max_pool2d_p(x.reshape((1,) + shape), kernel=kernel, stride=stride, padding=_sides(padding))
        return out.reshape(out.shape[1:])
    return max_pool2d_p(x, kernel=kernel, stride=stride, padding=_sides(padding))
