"""``cr.fft``: the differentiable ``numpy.fft`` — the complex, real-input and real-output transforms in one, two
and n dimensions, the Hermitian ones (``hfft``, ``ihfft``) and the spectrum shifts; ``fftfreq`` and ``rfftfreq``
(no input to differentiate) are NumPy's.

``np.fft.fft(t)`` and the others reach these through NumPy's protocols. Complex gradients follow PyTorch's
convention (for a real loss L of a complex z, z.grad = ∂L/∂Re z + i ∂L/∂Im z).

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (cr.abs(cr.fft.fft(x)) ** 2).sum().backward()   # Parseval: Σ|X_k|² = n Σ x², gradient 2 n x
>>> x.grad
tensor([ 6., 12., 18.])
"""

import numpy as _np

from .numpy import dispatch as _dispatch
from .ops.fourier import (fft, fft2, fftn, fftshift, hfft, ifft, ifft2, ifftn, ifftshift, ihfft, irfft, irfft2,
                          irfftn, rfft, rfft2, rfftn)

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq"]

fftfreq = _np.fft.fftfreq
rfftfreq = _np.fft.rfftfreq

# np.fft.<name>(tensor) runs these (NumPy hands them over through __array_function__).
for _name in __all__:
    if _name not in ("fftfreq", "rfftfreq"):
        _dispatch.NUMPY_FUNCTIONS[getattr(_np.fft, _name)] = globals()[_name]
