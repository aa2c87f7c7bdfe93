"""The discrete Fourier transforms of ``numpy.fft`` (complex, real-input and real-output, over any axes) and the
spectrum shifts, as linear primitives whose adjoints are the dual transforms.

Complex cotangents follow PyTorch's convention (for a real loss L of a complex z, z̄ = ∂L/∂Re z + i ∂L/∂Im z), under
which the adjoint of a complex-linear map is its conjugate transpose. So ``fftn``'s adjoint is the unnormalised
inverse transform (``ifftn`` with the dual ``norm``); a real input takes the real part of it. ``rfftn`` (real to a
half spectrum) has the adjoint ``irfftn`` of ḡ with the bins that stand for two (all but 0 and n/2) halved;
``irfftn``'s adjoint is ``rfftn`` with those bins doubled (JAX's rules, without JAX's conjugate). The user-facing
functions (``cr.fft.fft`` and the others) pad or crop the input to ``n``/``s`` first, with ``pad`` and ``crop``.
"""

from __future__ import annotations

import operator

import numpy as np

from ..core.batching_rules import axis_rule
from ..core.shapes import shape_of
from ..core.complex_parts import conj, real
from ..core.tensor import Tensor
from ..extend import Primitive
from .join import crop_p, pad_p

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
# the adjoint of a transform scaled by c is the opposite transform scaled by c (the unnormalised F and Fᴴ)
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


def _real(v, like):
    """``v``'s real part where the input ``like`` is real (the adjoint of embedding ℝ in ℂ), else ``v``."""
    if np.dtype(like.dtype).kind == "c" or np.dtype(v.dtype).kind != "c":
        return v
    return v.real if isinstance(v, np.ndarray) else real(v)


def _half_weights(n, ndim, axis, dtype):
    """The multiplicity of each bin of a half spectrum of length n // 2 + 1 along ``axis``: bin 0 and (for an even
    ``n``) bin n / 2 stand for one frequency, the others for two (k and n − k)."""
    m = np.full(n // 2 + 1, 2.0)
    m[0] = 1.0
    if n % 2 == 0:
        m[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = n // 2 + 1
    return m.reshape(shape).astype(np.finfo(dtype).dtype)


def _fftn(x, axes, norm):
    return np.fft.fftn(x, axes=axes, norm=norm)


def _ifftn(x, axes, norm):
    return np.fft.ifftn(x, axes=axes, norm=norm)


def _rfftn(x, axes, norm):
    return np.fft.rfftn(x, axes=axes, norm=norm)


def _irfftn(x, axes, norm, n):
    s = [x.shape[a] for a in axes[:-1]] + [n]
    return np.fft.irfftn(x, s=s, axes=axes, norm=norm)


def _rfft_vjp(g, ans, x, axes, norm):
    n = x.shape[axes[-1]]
    return irfftn_p(g / _half_weights(n, g.ndim, axes[-1], g.dtype), axes=axes, norm=_DUAL[norm], n=n)


def _irfft_vjp(g, ans, x, axes, norm, n):
    return _real(rfftn_p(g, axes=axes, norm=_DUAL[norm]) * _half_weights(n, g.ndim, axes[-1], g.dtype), x)


_AXES = axis_rule("axes")
_M = "m = 2 but at bins 0 and n/2"


def _formula(text):
    """The adjoint's text, with the dual norm that makes it exact."""
    return lambda i, texts, g, out, kw, shape: text.format(g=g, norm=_DUAL[kw["norm"]], m=_M)

fftn_p = Primitive(
    "fftn",
    _fftn,
    vjp=(lambda g, ans, x, axes, norm: _real(ifftn_p(g, axes=axes, norm=_DUAL[norm]), x),),
    jvp=(lambda t, ans, x, axes, norm: fftn_p(t, axes=axes, norm=norm),),
    save=("args",),
    batch=_AXES,
    vjp_formulas=_formula("ifftn({g}, norm='{norm}')"),
)

ifftn_p = Primitive(
    "ifftn",
    _ifftn,
    vjp=(lambda g, ans, x, axes, norm: _real(fftn_p(g, axes=axes, norm=_DUAL[norm]), x),),
    jvp=(lambda t, ans, x, axes, norm: ifftn_p(t, axes=axes, norm=norm),),
    save=("args",),
    batch=_AXES,
    vjp_formulas=_formula("fftn({g}, norm='{norm}')"),
)

rfftn_p = Primitive(
    "rfftn",
    _rfftn,
    vjp=(_rfft_vjp,),
    jvp=(lambda t, ans, x, axes, norm: rfftn_p(t, axes=axes, norm=norm),),
    save=("args",),
    batch=_AXES,
    vjp_formulas=_formula("irfftn({g} / m, norm='{norm}'), {m}"),
)

irfftn_p = Primitive(
    "irfftn",
    _irfftn,
    vjp=(_irfft_vjp,),
    jvp=(lambda t, ans, x, axes, norm, n: irfftn_p(t, axes=axes, norm=norm, n=n),),
    save=("args",),
    batch=_AXES,
    vjp_formulas=_formula("rfftn({g}, norm='{norm}')·m, {m}"),
)


def _shift(x, axes, inverse):
    return np.fft.ifftshift(x, axes=axes) if inverse else np.fft.fftshift(x, axes=axes)


# a permutation: its adjoint is the inverse permutation
shift_p = Primitive(
    "fftshift",
    _shift,
    vjp=(lambda g, ans, x, axes, inverse: shift_p(g, axes=axes, inverse=not inverse),),
    jvp=(lambda t, ans, x, axes, inverse: shift_p(t, axes=axes, inverse=inverse),),
    save=(),
    batch=_AXES,
    call_args=lambda kw, shapes: [("axes", kw["axes"])] + ([("inverse", True)] if kw["inverse"] else []),
)


# ---- the public functions: NumPy's signatures, the input padded or cropped to the transform's length -------------
def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    return norm


def _axes(op, ndim, axes):
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"{op}: axis {a} is out of bounds for an array of dimension {ndim}")
        out.append(a % ndim)
    return tuple(out)


def _cook(op, shape, s, axes):
    """NumPy's choice of axes and lengths: the last len(s) axes for ``s`` alone, all axes for neither."""
    ndim = len(shape)
    if s is not None and axes is None:
        axes = range(ndim - len(s), ndim)
    elif axes is None:
        axes = range(ndim)
    axes = _axes(op, ndim, axes)
    if s is None:
        s = [shape[a] for a in axes]
    elif len(s) != len(axes):
        raise ValueError(f"{op}: when given, axes and shape arguments have to be of the same length")
    s = [operator.index(k) for k in s]
    if any(k < 1 for k in s):
        raise ValueError(f"{op}: invalid number of data points {s} specified")
    return list(s), axes


def _resize(x, lengths):
    """``x`` cropped or padded with zeros at the end, {axis: length} (NumPy's n/s)."""
    shape = shape_of(x)
    crop = [(0, max(0, shape[a] - lengths.get(a, shape[a]))) for a in range(len(shape))]
    if any(c for _, c in crop):
        x = crop_p(x, pad_width=tuple(crop))
    pad = [(0, max(0, lengths.get(a, shape[a]) - shape[a])) for a in range(len(shape))]
    if any(p for _, p in pad):
        x = pad_p(x, pad_width=tuple(pad), mode="constant", constant_values=0)
    return x


def _operand(x):
    return x if isinstance(x, Tensor) or isinstance(x, np.ndarray) else np.asarray(x)


def _distinct(op, axes):
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axes {axes} are not supported on Tensors")


def fftn(a, s=None, axes=None, norm=None):
    """``np.fft.fftn``: the n-dimensional discrete Fourier transform (``s``: lengths, padded or cropped).

    >>> import chainrule as cr
    >>> cr.fft.fftn(cr.ones((2, 2)))
    tensor([[4.+0.j, 0.+0.j],
            [0.+0.j, 0.+0.j]], dtype=complex128)
    """
    a = _operand(a)
    s, axes = _cook("fftn", shape_of(a), s, axes)
    _distinct("fftn", axes)
    return fftn_p(_resize(a, dict(zip(axes, s))), axes=axes, norm=_norm(norm))


def ifftn(a, s=None, axes=None, norm=None):
    """``np.fft.ifftn``: the n-dimensional inverse discrete Fourier transform.

    >>> import chainrule as cr
    >>> cr.fft.ifftn(cr.tensor([[2.0, 2.0]]))
    tensor([[2.+0.j, 0.+0.j]], dtype=complex128)
    """
    a = _operand(a)
    s, axes = _cook("ifftn", shape_of(a), s, axes)
    _distinct("ifftn", axes)
    return ifftn_p(_resize(a, dict(zip(axes, s))), axes=axes, norm=_norm(norm))


def rfftn(a, s=None, axes=None, norm=None):
    """``np.fft.rfftn``: the n-dimensional transform of a real array, halved along the last of ``axes``.

    >>> import chainrule as cr
    >>> cr.fft.rfftn(cr.ones((2, 4))).shape
    (2, 3)
    """
    a = _operand(a)
    if np.dtype(a.dtype).kind == "c":
        raise TypeError("rfftn: the input must be real (use fftn for a complex one)")
    s, axes = _cook("rfftn", shape_of(a), s, axes)
    _distinct("rfftn", axes)
    return rfftn_p(_resize(a, dict(zip(axes, s))), axes=axes, norm=_norm(norm))


def irfftn(a, s=None, axes=None, norm=None):
    """``np.fft.irfftn``: the real inverse of ``rfftn`` (``s[-1]``: the output's length along the last axis,
    ``2 (m − 1)`` by default; the imaginary parts of bins 0 and n/2 do not enter, so they get no gradient).

    >>> import chainrule as cr
    >>> cr.fft.irfftn(cr.fft.rfftn(cr.tensor([[1.0, 2.0, 3.0]])), s=(1, 3))
    tensor([[1., 2., 3.]])
    """
    a = _operand(a)
    shape = shape_of(a)
    given = s is not None
    s, axes = _cook("irfftn", shape, s, axes)
    _distinct("irfftn", axes)
    if not given:
        s[-1] = 2 * (shape[axes[-1]] - 1)
    if s[-1] < 1:
        raise ValueError(f"irfftn: invalid number of data points ({s[-1]}) specified")
    lengths = dict(zip(axes[:-1], s[:-1]))
    lengths[axes[-1]] = s[-1] // 2 + 1
    return irfftn_p(_resize(a, lengths), axes=axes, norm=_norm(norm), n=s[-1])


def _one(n, axis):
    return None if n is None else (n,), (axis,)


def fft(a, n=None, axis=-1, norm=None):
    """``np.fft.fft``: the one-dimensional discrete Fourier transform along ``axis`` (``n``: its length).

    >>> import chainrule as cr
    >>> cr.fft.fft(cr.tensor([1.0, 0.0, 0.0]))
    tensor([1.+0.j, 1.+0.j, 1.+0.j], dtype=complex128)
    """
    return fftn(a, *_one(n, axis), norm)


def ifft(a, n=None, axis=-1, norm=None):
    """``np.fft.ifft``: the one-dimensional inverse transform.

    >>> import chainrule as cr
    >>> cr.fft.ifft(cr.tensor([3.0, 3.0, 3.0]))
    tensor([3.+0.j, 0.+0.j, 0.+0.j], dtype=complex128)
    """
    return ifftn(a, *_one(n, axis), norm)


def rfft(a, n=None, axis=-1, norm=None):
    """``np.fft.rfft``: the transform of a real array, bins 0 to n // 2.

    >>> import chainrule as cr
    >>> cr.fft.rfft(cr.tensor([1.0, 1.0, 1.0, 1.0]))
    tensor([4.+0.j, 0.+0.j, 0.+0.j], dtype=complex128)
    """
    return rfftn(a, *_one(n, axis), norm)


def irfft(a, n=None, axis=-1, norm=None):
    """``np.fft.irfft``: the real inverse of ``rfft`` (``n``: the output's length, ``2 (m − 1)`` by default).

    >>> import chainrule as cr
    >>> cr.fft.irfft(cr.tensor([4.0, 0.0, 0.0]))
    tensor([1., 1., 1., 1.])
    """
    a = _operand(a)
    if n is None:
        n = 2 * (shape_of(a)[axis] - 1)
    return irfftn(a, (n,), (axis,), norm)


def hfft(a, n=None, axis=-1, norm=None):
    """``np.fft.hfft``: the real spectrum of a signal with Hermitian symmetry given by its first half
    (``irfft`` of the conjugate, with the opposite scaling).

    >>> import chainrule as cr
    >>> cr.fft.hfft(cr.tensor([1.0, 0.0, 0.0]))
    tensor([1., 1., 1., 1.])
    """
    a = _operand(a)
    if n is None:
        n = 2 * (shape_of(a)[axis] - 1)
    if np.dtype(a.dtype).kind == "c":
        a = conj(a)
    return irfft(a, n, axis, _DUAL[_norm(norm)])


def ihfft(a, n=None, axis=-1, norm=None):
    """``np.fft.ihfft``: the inverse of ``hfft`` for a real input (the conjugate of ``rfft``, opposite scaling).

    >>> import chainrule as cr
    >>> cr.fft.ihfft(cr.tensor([1.0, 1.0, 1.0, 1.0]))
    tensor([1.-0.j, 0.-0.j, 0.-0.j], dtype=complex128)
    """
    return conj(rfft(a, n, axis, _DUAL[_norm(norm)]))


def fft2(a, s=None, axes=(-2, -1), norm=None):
    """``np.fft.fft2``: ``fftn`` over the last two axes.

    >>> import chainrule as cr
    >>> cr.fft.fft2(cr.ones((1, 2))).shape
    (1, 2)
    """
    return fftn(a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """``np.fft.ifft2``: ``ifftn`` over the last two axes.

    >>> import chainrule as cr
    >>> cr.fft.ifft2(cr.ones((1, 2))).shape
    (1, 2)
    """
    return ifftn(a, s, axes, norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """``np.fft.rfft2``: ``rfftn`` over the last two axes.

    >>> import chainrule as cr
    >>> cr.fft.rfft2(cr.ones((2, 4))).shape
    (2, 3)
    """
    return rfftn(a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """``np.fft.irfft2``: ``irfftn`` over the last two axes.

    >>> import chainrule as cr
    >>> cr.fft.irfft2(cr.ones((2, 3))).shape
    (2, 4)
    """
    return irfftn(a, s, axes, norm)


def _shift_axes(op, a, axes):
    ndim = len(shape_of(a))
    if axes is None:
        return tuple(range(ndim))
    return _axes(op, ndim, (axes,) if isinstance(axes, (int, np.integer)) else axes)


def fftshift(x, axes=None):
    """``np.fft.fftshift``: the zero frequency moved to the centre (of ``axes``, all by default).

    >>> import chainrule as cr
    >>> cr.fft.fftshift(cr.tensor([0.0, 1.0, 2.0, -2.0, -1.0]))
    tensor([-2., -1.,  0.,  1.,  2.])
    """
    x = _operand(x)
    return shift_p(x, axes=_shift_axes("fftshift", x, axes), inverse=False)


def ifftshift(x, axes=None):
    """``np.fft.ifftshift``: the inverse of ``fftshift``.

    >>> import chainrule as cr
    >>> cr.fft.ifftshift(cr.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]))
    tensor([ 0.,  1.,  2., -2., -1.])
    """
    x = _operand(x)
    return shift_p(x, axes=_shift_axes("ifftshift", x, axes), inverse=True)
