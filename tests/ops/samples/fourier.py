"""Sample cases of the Fourier primitives (fftn, ifftn, rfftn, irfftn, fftshift), each seen through a real loss of its
complex output: its real and its imaginary part, taken by two test-only primitives whose rules are PyTorch's
convention written out (they stand in for ``real`` and ``imag``, which live in another family)."""

from __future__ import annotations

import numpy as np

from chainrule.core.complex_parts import imag, real
from chainrule.ops import fourier as F
from tests.ops.harness import Case

rng = np.random.default_rng(11)


# real losses of the complex outputs: chainrule's own Re and Im (PyTorch's convention)
re, im = real, imag


def _cases(name, fn, ref, x, label, **kw):
    """Two cases of one transform: its real and its imaginary part."""
    return [Case(name, lambda x: re(fn(x)), (x,), lambda x: ref(x).real, f"{label} re", **kw),
            Case(name, lambda x: im(fn(x)), (x,), lambda x: ref(x).imag, f"{label} im", **kw)]


def r(*shape):
    return rng.standard_normal(shape)


TRANSFORMS = [
    # (primitive, chainrule function, NumPy reference, input, label)
    ("fftn", F.fft, np.fft.fft, r(6), "fft"),
    ("fftn", lambda x: F.fft(x, n=8), lambda x: np.fft.fft(x, n=8), r(5), "fft n pads"),
    ("fftn", lambda x: F.fft(x, n=3, norm="ortho"), lambda x: np.fft.fft(x, n=3, norm="ortho"), r(5),
     "fft n crops, ortho"),
    ("fftn", lambda x: F.fft(x, axis=0, norm="forward"), lambda x: np.fft.fft(x, axis=0, norm="forward"), r(4, 3),
     "fft axis 0, forward"),
    ("fftn", F.fft2, np.fft.fft2, r(3, 4), "fft2"),
    ("fftn", lambda x: F.fftn(x, s=(4, 2), axes=(0, 2)), lambda x: np.fft.fftn(x, s=(4, 2), axes=(0, 2)), r(3, 2, 3),
     "fftn s axes"),
    ("fftn", lambda x: F.fft(F.fft(x, axis=0)), lambda x: np.fft.fft(np.fft.fft(x, axis=0)), r(3, 4),
     "complex input"),
    ("ifftn", F.ifft, np.fft.ifft, r(5), "ifft"),
    ("ifftn", lambda x: F.ifft(x, n=7, norm="ortho"), lambda x: np.fft.ifft(x, n=7, norm="ortho"), r(5),
     "ifft n pads, ortho"),
    ("ifftn", F.ifft2, np.fft.ifft2, r(2, 3, 4), "ifft2"),
    ("ifftn", lambda x: F.ifftn(F.fft(x), axes=(0,), norm="forward"),
     lambda x: np.fft.ifftn(np.fft.fft(x), axes=(0,), norm="forward"), r(3, 4), "complex input, forward"),
    ("rfftn", F.rfft, np.fft.rfft, r(6), "rfft even"),
    ("rfftn", F.rfft, np.fft.rfft, r(7), "rfft odd"),
    ("rfftn", lambda x: F.rfft(x, n=9, axis=0, norm="ortho"), lambda x: np.fft.rfft(x, n=9, axis=0, norm="ortho"),
     r(6, 2), "rfft n pads, axis 0, ortho"),
    ("rfftn", lambda x: F.rfft(x, n=4, norm="forward"), lambda x: np.fft.rfft(x, n=4, norm="forward"), r(7),
     "rfft n crops, forward"),
    ("rfftn", F.rfft2, np.fft.rfft2, r(3, 4), "rfft2"),
    ("rfftn", lambda x: F.rfftn(x, s=(3, 5), axes=(2, 0)), lambda x: np.fft.rfftn(x, s=(3, 5), axes=(2, 0)),
     r(4, 2, 3), "rfftn s axes"),
    # a generic complex half spectrum (bins 0 and n/2 with imaginary parts, which irfft ignores)
    ("irfftn", lambda x: F.irfft(F.fftshift(F.fft(x)), n=8), lambda x: np.fft.irfft(np.fft.fftshift(np.fft.fft(x)), 8),
     r(5), "irfft even"),
    ("irfftn", lambda x: F.irfft(F.fftshift(F.fft(x)), n=9, norm="ortho"),
     lambda x: np.fft.irfft(np.fft.fftshift(np.fft.fft(x)), 9, norm="ortho"), r(5), "irfft odd, ortho"),
    ("irfftn", lambda x: F.irfft(F.fft(x), n=4, norm="forward"),
     lambda x: np.fft.irfft(np.fft.fft(x), 4, norm="forward"), r(6), "irfft n crops, forward"),
    ("irfftn", F.irfft, np.fft.irfft, r(4), "irfft of a real input"),
    ("irfftn", lambda x: F.irfft2(F.fft(x, axis=0)), lambda x: np.fft.irfft2(np.fft.fft(x, axis=0)), r(3, 4),
     "irfft2"),
    ("irfftn", lambda x: F.irfftn(F.fft(x), s=(4, 5), axes=(1, 0)),
     lambda x: np.fft.irfftn(np.fft.fft(x), s=(4, 5), axes=(1, 0)), r(3, 4), "irfftn s axes"),
    ("irfftn", lambda x: F.hfft(F.fftshift(F.fft(x)), n=7, norm="ortho"),
     lambda x: np.fft.hfft(np.fft.fftshift(np.fft.fft(x)), 7, norm="ortho"), r(5), "hfft, ortho"),
    ("irfftn", lambda x: F.hfft(x, axis=0), lambda x: np.fft.hfft(x, axis=0), r(3, 2), "hfft of a real input"),
    ("rfftn", lambda x: F.ihfft(x, n=6), lambda x: np.fft.ihfft(x, n=6), r(5), "ihfft"),
    ("rfftn", lambda x: F.ihfft(x, norm="forward"), lambda x: np.fft.ihfft(x, norm="forward"), r(2, 5),
     "ihfft, forward"),
    ("fftshift", F.fftshift, np.fft.fftshift, r(5), "odd"),
    ("fftshift", lambda x: F.ifftshift(x, axes=0), lambda x: np.fft.ifftshift(x, axes=0), r(4, 3), "ifftshift axis 0"),
    ("fftshift", lambda x: F.fftshift(F.fft(x), axes=(-1,)), lambda x: np.fft.fftshift(np.fft.fft(x), axes=(-1,)),
     r(2, 4), "complex"),
    ("fftshift", F.ifftshift, np.fft.ifftshift, r(3, 4), "ifftshift all axes"),
]

CASES = []
for name, fn, ref, x, label in TRANSFORMS:
    if np.iscomplexobj(ref(x)):
        CASES += _cases(name, fn, ref, x, label)
    else:
        CASES.append(Case(name, fn, (x,), ref, label))
# Parseval, composed to second order: Σ |fft(x)|² = n Σ x²
CASES.append(Case("fftn", lambda x: (re(F.fft(x * x)) ** 2 + im(F.fft(x * x)) ** 2).sum(axis=-1), (r(2, 5),),
                  lambda x: 5 * (x ** 4).sum(axis=-1), "Parseval of x²"))
