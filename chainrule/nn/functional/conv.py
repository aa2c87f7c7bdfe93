"""2-D convolution as im2col + one matmul; im2col and col2im are a linear pair of primitives."""

from __future__ import annotations

import numbers

import numpy as np

from ...core.batching_rules import reshape_to, shape_of, with_batch
from ...core.primitive import Primitive, apply
from ...core.tensor import Tensor
from ...ops.products import matmul_p

__all__ = ["conv2d", "im2col", "col2im", "out_size", "resolve_padding", "check_groups"]


def _pair(v, what, op, minimum):
    """An int or a pair of ints as a validated (h, w) tuple."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = (int(v), int(v))
    try:
        h, w = v
        h, w = int(h), int(w)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {what} must be an int or a pair of ints, got {v!r}") from None
    if h < minimum or w < minimum:
        raise ValueError(f"{op}: {what} must be >= {minimum}, got {(h, w)}")
    return h, w


def out_size(size, kernel, stride, padding):
    """Output length of a sliding window: ⌊(size + before + after - kernel) / stride⌋ + 1.

    ``padding`` is the amount on each side (an int) or a (before, after) pair.
    """
    before, after = (padding, padding) if isinstance(padding, numbers.Integral) else padding
    return (size + before + after - kernel) // stride + 1


def _sides(padding):
    """Padding as ((top, bottom), (left, right)), the primitives' form, from an int, (ph, pw) or that form."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 2, (int(padding),) * 2
    ph, pw = padding
    ph = (int(ph),) * 2 if isinstance(ph, numbers.Integral) else tuple(int(v) for v in ph)
    pw = (int(pw),) * 2 if isinstance(pw, numbers.Integral) else tuple(int(v) for v in pw)
    return ph, pw


def _windows(in_shape, kernel, stride, padding, dilation=(1, 1)):
    """For every kernel offset (i, j), the slice of the padded image that it reads at each output pixel.

    ``padding`` is ((top, bottom), (left, right)); here and below it may be asymmetric ('same' with an even kernel).
    Offset (i, j) of a dilated kernel sits at (i·dh, j·dw): its span is d·(k - 1) + 1.
    """
    _, _, h, w = in_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = out_size(h, dh * (kh - 1) + 1, sh, ph), out_size(w, dw * (kw - 1) + 1, sw, pw)
    return oh, ow, [
        (i, j, (slice(None), slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)))
        for i in range(kh)
        for j in range(kw)
    ]


def _padded(x, padding, fill=0):
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    xp = np.full((n, c, h + top + bottom, w + left + right), fill, dtype=x.dtype)
    xp[:, :, top : top + h, left : left + w] = x
    return xp


def _unpadded(xp, padding, in_shape):
    """The inverse crop of ``_padded`` (a contiguous copy, or ``xp`` itself when there is no padding)."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return xp
    h, w = in_shape[2], in_shape[3]
    return np.ascontiguousarray(xp[:, :, top : top + h, left : left + w])


def _im2col(x, kernel, stride, padding, in_shape, dilation=(1, 1)):
    # cols[n, (c, i, j), (oh, ow)] = x_padded[n, c, oh·sh + i·dh, ow·sw + j·dw]; one strided copy per kernel offset
    n, c = in_shape[:2]
    kh, kw = kernel
    oh, ow, wins = _windows(in_shape, kernel, stride, padding, dilation)
    xp = _padded(x, padding)
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i, j, sl in wins:
        cols[:, :, i, j] = xp[sl]
    return cols.reshape(n, c * kh * kw, oh * ow)


def _col2im(cols, kernel, stride, padding, in_shape, dilation=(1, 1)):
    # the transpose of im2col: every column entry is added back to the pixel it was copied from
    n, c, h, w = in_shape
    kh, kw = kernel
    (top, bottom), (left, right) = padding
    oh, ow, wins = _windows(in_shape, kernel, stride, padding, dilation)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    for i, j, sl in wins:
        xp[sl] += cols[:, :, i, j]  # whole strided slices: no pixel loop, no scatter-add
    return _unpadded(xp, padding, in_shape)


# im2col and col2im are linear and each other's transpose: x̄ = col2im(ḡ), c̄ = im2col(ḡ);
# being linear, each one's tangent map is itself.
def _shown_pair(v):
    """A (height, width) pair as the public argument: ``3`` for (3, 3), else the pair."""
    return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v


def _shown_padding(sides):
    """((top, bottom), (left, right)) as the public ``padding``: ``1``, ``(1, 0)``; uneven sides stay as they are."""
    (top, bottom), (left, right) = sides
    return _shown_pair((top, left)) if (top, left) == (bottom, right) else sides


def _window_args(default_stride):
    """The shown call's kernel_size, and stride and padding where not their defaults (``default_stride(kw)``)."""

    def args(kw, shapes):
        out = [("kernel_size", _shown_pair(kw["kernel"]))]
        if tuple(kw["stride"]) != tuple(default_stride(kw)):
            out.append(("stride", _shown_pair(kw["stride"])))
        if any(p for side in kw["padding"] for p in side):
            out.append(("padding", _shown_padding(kw["padding"])))
        if tuple(kw.get("dilation", (1, 1))) != (1, 1):
            out.append(("dilation", _shown_pair(tuple(kw["dilation"]))))
        return out

    return args


def _fold_batch(prim, vals, bat, kw, size):
    """NCHW operations: fold the batch into N, (B, N, ...) -> (B·N, ...), and unfold the result."""
    vals = [v if b or v is None or not isinstance(v, (Tensor, np.ndarray)) else with_batch(v, size)
            for v, b in zip(vals, bat)]
    n = shape_of(vals[0])[1]
    vals = [reshape_to(v, (size * n,) + shape_of(v)[2:]) if isinstance(v, (Tensor, np.ndarray)) else v for v in vals]
    if kw.get("in_shape") is not None:
        kw = dict(kw, in_shape=(size * n,) + tuple(kw["in_shape"])[1:])
    out = apply(prim, vals, kw)
    return reshape_to(out, (size, n) + shape_of(out)[1:])


im2col_p = Primitive(
    "im2col",
    _im2col,
    vjp=(lambda g, ans, x, **kw: col2im_p(g, **kw),),
    jvp=(lambda t, ans, x, **kw: im2col_p(t, **kw),),
    save=(),
    batch=_fold_batch,
    call_args=_window_args(lambda kw: (1, 1)),
)
col2im_p = Primitive(
    "col2im",
    _col2im,
    vjp=(lambda g, ans, cols, **kw: im2col_p(g, **kw),),
    jvp=(lambda t, ans, cols, **kw: col2im_p(t, **kw),),
    save=(),
    batch=_fold_batch,
    call_args=lambda kw, shapes: [("output_size", kw["in_shape"])] + _window_args(lambda kw: (1, 1))(kw, shapes),
)


def resolve_padding(padding, kernel, stride, op, dilation=(1, 1)):
    """``padding`` (an int, (ph, pw), 'valid' or 'same') as ((top, bottom), (left, right)).

    'same' keeps H and W (stride 1 only, as in PyTorch). With an even kernel
    the k - 1 padded rows cannot be split evenly; like PyTorch we put the
    extra one at the bottom (and the extra column at the right).

    >>> resolve_padding("same", (4, 3), (1, 1), "conv2d")
    ((1, 2), (1, 1))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if tuple(stride) != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride {stride})")
            # d·(k - 1) rows in all, the odd one after: (1, 2) for k = 4
            spans = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((s // 2, s - s // 2) for s in spans)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    return _sides(_pair(padding, "padding", op, 0))


def _static(x_shape, kernel, stride, padding, op, dilation=1):
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x_shape)}")
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    padding = resolve_padding(padding, kernel, stride, op, dilation)
    h, w = x_shape[2] + sum(padding[0]), x_shape[3] + sum(padding[1])
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if h < span[0] or w < span[1]:
        raise ValueError(
            f"{op}: the kernel {kernel} (dilation {dilation}) is larger than the padded input ({h}, {w}) "
            f"(input shape {tuple(x_shape)}, padding {padding})"
        )
    static = {"kernel": kernel, "stride": stride, "padding": padding, "in_shape": tuple(int(s) for s in x_shape)}
    if dilation != (1, 1):  # left out otherwise: the shown call and existing graphs stay as they were
        static["dilation"] = dilation
    return static


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Unfold (N, C, H, W) into columns (N, C·kh·kw, OH·OW), PyTorch's ``unfold`` layout.

    >>> import numpy as np
    >>> from chainrule.nn.functional import im2col
    >>> im2col(np.arange(16.0).reshape(1, 1, 4, 4), 3).shape
    (1, 9, 4)
    """
    kernel = _pair(kernel_size, "kernel_size", "im2col", 1)
    return im2col_p(x, **_static(shape_of(x), kernel, stride, padding, "im2col", dilation))


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1):
    """Fold columns back into an (N, C, H, W) image, adding overlaps: the transpose of ``im2col``."""
    kernel = _pair(kernel_size, "kernel_size", "col2im", 1)
    return col2im_p(cols, **_static(tuple(output_size), kernel, stride, padding, "col2im", dilation))


def check_groups(groups, in_channels, out_channels, op, shapes=""):
    """``groups`` as an int that divides both channel counts, or an error naming them (and ``shapes``)."""
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}{shapes}"
        )
    return int(groups)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, PyTorch's layouts: ``x`` NCHW (or unbatched CHW), ``weight`` (O, C/groups, kH, kW).

    ``padding`` is an int, a pair, 'valid' or 'same' (stride 1; an odd total
    padding puts the extra row and column at the bottom and right, as in
    PyTorch). ``dilation`` spaces the kernel taps; ``groups`` splits the
    channels into independent convolutions. Computed as one batched matmul of
    ``weight`` (G, O/G, C/G·kh·kw) with ``im2col(x)`` (N, G, C/G·kh·kw, L).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> x = cr.ones((2, 1, 5, 5), dtype=np.float32)
    >>> w = cr.ones((4, 1, 3, 3), dtype=np.float32)
    >>> y = F.conv2d(x, w, padding=1)
    >>> y.shape, y.data[0, 0, 2, 2].item(), y.data[0, 0, 0, 0].item()
    ((2, 4, 5, 5), 9.0, 4.0)
    >>> F.conv2d(x[0], cr.ones((4, 1, 2, 2), dtype=np.float32), padding="same").shape  # unbatched, even kernel
    (4, 5, 5)
    >>> F.conv2d(cr.ones((1, 4, 7, 7)), cr.ones((6, 2, 3, 3)), dilation=2, groups=2).shape
    (1, 6, 3, 3)
    """
    if not hasattr(x, "dtype"):
        x = np.asarray(x)
    xs, ws = shape_of(x), shape_of(weight)
    if len(ws) != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, kH, kW), got shape {ws}")
    if len(xs) not in (3, 4):
        raise ValueError(f"conv2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {xs}")
    unbatched = len(xs) == 3
    if unbatched:  # PyTorch's unbatched input: a batch of one, squeezed again at the end
        xs = (1,) + xs
        x = x.reshape(xs)
    g = check_groups(groups, 1, 1, "conv2d") if groups == 1 else groups
    if isinstance(g, numbers.Integral) and not isinstance(g, bool) and xs[1] != ws[1] * g:
        raise ValueError(
            f"conv2d: input has {xs[1]} channels (shape {shape_of(x)}) but weight {ws} with groups={g} "
            f"expects {ws[1] * g}"
        )
    g = check_groups(g, xs[1], ws[0], "conv2d", f" (input shape {shape_of(x)}, weight shape {ws})")
    static = _static(xs, (ws[2], ws[3]), stride, padding, "conv2d", dilation)
    if bias is not None and shape_of(bias) != (ws[0],):
        raise ValueError(f"conv2d: bias must have shape ({ws[0]},) for weight {ws}, got {shape_of(bias)}")
    n = xs[0]
    o = ws[0]
    oh, ow, _ = _windows(xs, static["kernel"], static["stride"], static["padding"], static.get("dilation", (1, 1)))
    if x.dtype.kind in "biu":
        x = np.asarray(x, dtype=weight.dtype)  # integer images (raw pixels) take the weight's dtype
    cols = im2col_p(x, **static)  # (N, K, L)
    k = ws[1] * ws[2] * ws[3]
    if g == 1:
        out = matmul_p(weight.reshape(o, k), cols)  # (N, O, L): one batched matmul
    else:  # channels (c, i, j) of group γ are rows γ·K ... (γ+1)·K - 1 of the columns
        out = matmul_p(weight.reshape(g, o // g, k), cols.reshape(n, g, k, oh * ow))  # (N, G, O/G, L)
    out = out.reshape((o, oh, ow) if unbatched else (n, o, oh, ow))
    if bias is not None:
        out = out + bias.reshape(o, 1, 1)
    return out
