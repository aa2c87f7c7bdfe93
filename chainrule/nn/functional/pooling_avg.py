"""Average pooling (im2col + a mean), adaptive average pooling (two pooling matmuls) and max_pool1d."""

from __future__ import annotations

import numbers

import numpy as np

from ...core.batching_rules import shape_of
from ...ops.products import matmul_p
from .conv import _im2col, _pair, im2col_p, out_size
from .pooling import max_pool2d

__all__ = ["avg_pool2d", "adaptive_avg_pool2d", "max_pool1d"]


def _ceil_rows(size, k, s, p, ceil_mode):
    """Output length and the extra rows past the padding that ceil_mode's last window reads (PyTorch's rule)."""
    if not ceil_mode:
        return out_size(size, k, s, p), 0
    n = -(-(size + 2 * p - k) // s) + 1
    if (n - 1) * s >= size + p:  # the last window would start in the right padding: dropped, as in PyTorch
        n -= 1
    return n, max(0, (n - 1) * s + k - size - 2 * p)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over (kH, kW) windows of (N, C, H, W) or unbatched (C, H, W) input; ``stride`` defaults to the kernel.

    ``count_include_pad`` counts the zero padding in each window's divisor
    (PyTorch's default); ``ceil_mode`` keeps a last partial window, whose
    divisor never counts the rows past the padding.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> x = cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> F.avg_pool2d(x, 2).data[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    >>> F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False).data[0, 0].tolist()
    [[2.5, 4.0], [8.5, 10.0]]
    """
    op = "avg_pool2d"
    if not hasattr(x, "dtype"):
        x = np.asarray(x)
    shape = shape_of(x)
    if len(shape) not in (3, 4):
        raise ValueError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {shape}")
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else _pair(stride, "stride", op, 1)
    pad = _pair(padding, "padding", op, 0)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {pad} must be at most half the kernel size {kernel}")
    unbatched = len(shape) == 3
    xs = (1,) + shape if unbatched else shape
    (h, w) = xs[2:]
    if h + 2 * pad[0] < kernel[0] or w + 2 * pad[1] < kernel[1]:
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input (input shape {shape})")
    (oh, eh), (ow, ew) = (_ceil_rows(s, k, st, p, ceil_mode) for s, k, st, p in zip((h, w), kernel, stride, pad))
    sides = ((pad[0], pad[0] + eh), (pad[1], pad[1] + ew))
    static = {"kernel": kernel, "stride": stride, "padding": sides, "in_shape": xs}
    if x.dtype.kind != "f":
        x = np.asarray(x, dtype=np.float64)
    cols = im2col_p(x.reshape(xs), **static)  # (N, C·kH·kW, OH·OW)
    n, c = xs[:2]
    total = cols.reshape(n, c, kernel[0] * kernel[1], oh * ow).sum(axis=2)
    if divisor_override is not None:
        out = total * (1.0 / divisor_override)
    elif not (eh or ew or (pad != (0, 0) and not count_include_pad)):
        out = total * (1.0 / (kernel[0] * kernel[1]))
    else:  # per-window counts: the padding counts (or not), the ceil_mode rows never do
        ones = np.zeros((1, 1, h + 2 * pad[0], w + 2 * pad[1]), dtype=x.dtype)
        if count_include_pad:
            ones[...] = 1
        else:
            ones[:, :, pad[0] : pad[0] + h, pad[1] : pad[1] + w] = 1
        counts = _im2col(ones, kernel, stride, ((0, eh), (0, ew)), ones.shape).sum(axis=1)  # (1, OH·OW)
        out = total * (1.0 / counts)
    return out.reshape((c, oh, ow) if unbatched else (n, c, oh, ow))


def _pool_matrix(size, out, dtype):
    """(out, size): row i averages [⌊i·size/out⌋, ⌈(i+1)·size/out⌉), PyTorch's adaptive windows."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, start:end] = 1.0 / (end - start)
    return m


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed (OH, OW) whatever the input's H and W (``None`` keeps that size).

    Windows are PyTorch's (they may overlap when the size does not divide);
    computed as ``A_h @ x @ A_wᵀ`` with two fixed averaging matrices.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.adaptive_avg_pool2d(cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4)), 1).data.ravel().tolist()
    [7.5]
    >>> F.adaptive_avg_pool2d(cr.ones((2, 3, 7, 5)), (3, None)).shape
    (2, 3, 3, 5)
    """
    op = "adaptive_avg_pool2d"
    if not hasattr(x, "dtype"):
        x = np.asarray(x)
    shape = shape_of(x)
    if len(shape) not in (3, 4):
        raise ValueError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {shape}")
    if output_size is None or isinstance(output_size, numbers.Integral):
        output_size = (output_size, output_size)
    h, w = shape[-2:]
    oh, ow = (s if o is None else o for o, s in zip(output_size, (h, w)))
    oh, ow = _pair((oh, ow), "output_size", op, 1)
    if x.dtype.kind != "f":
        x = np.asarray(x, dtype=np.float64)
    if h % oh == 0 and w % ow == 0 and (oh, ow) != (h, w):
        return avg_pool2d(x, (h // oh, w // ow))  # equal windows: one im2col and a mean
    dt = x.dtype
    if (oh, ow) == (h, w):
        return x * 1.0
    out = x if ow == w else matmul_p(x, _pool_matrix(w, ow, dt).T)
    return out if oh == h else matmul_p(_pool_matrix(h, oh, dt), out)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of length ``kernel_size`` along the last axis of (N, C, L) or unbatched (C, L) input.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.max_pool1d(cr.tensor(np.array([[[1.0, 3.0, 2.0, 0.0, 5.0]]])), 2).data.tolist()
    [[[3.0, 2.0]]]
    """
    op = "max_pool1d"
    shape = shape_of(x)
    if len(shape) not in (2, 3):
        raise ValueError(f"{op}: input must be 2-D (C, L) or 3-D (N, C, L), got shape {shape}")
    k = _pair(kernel_size, "kernel_size", op, 1)[0] if not isinstance(kernel_size, (tuple, list)) else kernel_size[0]
    s = k if stride is None else (stride[0] if isinstance(stride, (tuple, list)) else stride)
    p = padding[0] if isinstance(padding, (tuple, list)) else padding
    d = dilation[0] if isinstance(dilation, (tuple, list)) else dilation
    if not hasattr(x, "reshape"):
        x = np.asarray(x)
    out = max_pool2d(x.reshape(shape[:-1] + (1, shape[-1])), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    os = shape_of(out)
    return out.reshape(os[:-2] + (os[-1],))

