"""numpy.fft: the sample table's checks, closed forms (Parseval, round trips), complex leaves with PyTorch's
convention, NumPy's dispatch and chainrule.numpy.fft, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from tests.ops.harness import check_case
from tests.ops.samples.fourier import CASES, im, re

rng = np.random.default_rng(3)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_parseval_gradient_is_2nx(dtype):
    x = cr.tensor(rng.standard_normal((3, 8)).astype(dtype), requires_grad=True)
    (cr.abs(np.fft.fft(x)) ** 2).sum().backward()
    assert x.grad.dtype == dtype
    assert np.allclose(x.grad.data, 16 * x.data, rtol=1e-5)


def test_complex_leaf_follows_pytorch():
    # L = Σ|fft(z)|² = n Σ|z|²: z.grad = ∂L/∂Re z + i ∂L/∂Im z = 2 n z
    z = cr.tensor(rng.standard_normal(5) + 1j * rng.standard_normal(5), requires_grad=True)
    (re(cr.fft.fft(z)) ** 2 + im(cr.fft.fft(z)) ** 2).sum().backward()
    assert np.allclose(z.grad.data, 10 * z.data)
    # L = Σ_k Re fft(z)_k = Σ_n Re(z_n) Σ_k cos(2πkn/5) + Im(z_n) Σ_k sin(2πkn/5) = 5 Re z_0
    z.grad = None
    re(cr.fft.fft(z)).sum().backward()
    assert np.allclose(z.grad.data, [5, 0, 0, 0, 0])
    # L = Σ_k Im ifft(z)_k = Im z_0: gradient i at entry 0
    z.grad = None
    im(cr.fft.ifft(z)).sum().backward()
    assert np.allclose(z.grad.data, [1j, 0, 0, 0, 0])


def _numeric_complex_grad(loss, z, eps=1e-6):
    """∂L/∂Re z + i ∂L/∂Im z by central differences (cr.gradcheck perturbs real directions only)."""
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        for step in (1, 1j):
            d = np.zeros_like(z)
            d[idx] = step * eps
            g[idx] += step * (loss(z + d) - loss(z - d)) / (2 * eps)
    return g


@pytest.mark.parametrize("k", range(6))
def test_complex_leaf_by_differences(k):
    z = rng.standard_normal((2, 4)) + 1j * rng.standard_normal((2, 4))
    fns = [lambda z: re(cr.fft.fft2(z)), lambda z: im(cr.fft.ifft(z, n=6, norm="ortho")),
           lambda z: cr.fft.irfft(z, n=5), lambda z: im(cr.fft.fftshift(z, axes=1)),
           lambda z: re(cr.fft.fftn(z, s=(3, 3), norm="forward")),
           lambda z: cr.fft.hfft(z, n=7, norm="ortho")]
    f = fns[k]
    w = rng.standard_normal(f(cr.tensor(z)).shape)
    leaf = cr.tensor(z, requires_grad=True)
    (f(leaf) * w).sum().backward()
    expected = _numeric_complex_grad(lambda z: float((f(cr.tensor(z)).data * w).sum()), z)
    assert np.allclose(leaf.grad.data, expected, atol=1e-6)


def test_round_trips_have_identity_gradients():
    x = cr.tensor(rng.standard_normal(7), requires_grad=True)
    w = rng.standard_normal(7)
    (cr.fft.irfft(cr.fft.rfft(x), n=7) * w).sum().backward()
    assert np.allclose(x.grad.data, w)
    x.grad = None
    (re(cr.fft.ifft(cr.fft.fft(x))) * w).sum().backward()
    assert np.allclose(x.grad.data, w)
    x.grad = None
    (cr.fft.ifftshift(cr.fft.fftshift(x)) * w).sum().backward()
    assert np.allclose(x.grad.data, w)


def test_forward_mode_and_vmap():
    x = rng.standard_normal((3, 6))
    v = rng.standard_normal((3, 6))
    out, tangent = cr.jvp(lambda x: cr.fft.rfft(x), (cr.tensor(x),), (cr.tensor(v),))
    assert np.allclose(tangent.data, np.fft.rfft(v))
    batched = cr.vmap(lambda x: cr.fft.fft(x, n=8))(cr.tensor(x))
    assert np.allclose(batched.data, np.fft.fft(x, n=8))
    per_row = cr.vmap(cr.grad(lambda x: (re(cr.fft.fft(x)) ** 2).sum()))(cr.tensor(x))
    looped = [cr.grad(lambda x: (re(cr.fft.fft(x)) ** 2).sum())(cr.tensor(row)).data for row in x]
    assert np.allclose(per_row.data, np.stack(looped))


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
                                  "fftn",
                                  "ifftn", "rfftn", "irfftn", "fftshift", "ifftshift"])
def test_numpy_dispatch_and_namespace_record(name):
    x = rng.standard_normal((4, 6))
    t = cr.tensor(x, requires_grad=True)
    for fn in (getattr(np.fft, name), getattr(cnp.fft, name), getattr(cr.fft, name)):
        y = fn(t)
        assert isinstance(y, cr.Tensor) and y.requires_grad
        assert np.allclose(y.data, getattr(np.fft, name)(x))


def test_float32_gives_complex64():
    x = cr.tensor(np.ones(4, np.float32), requires_grad=True)
    assert cr.fft.fft(x).dtype == np.complex64 and cr.fft.irfft(cr.fft.rfft(x)).dtype == np.float32


def test_errors():
    x = cr.tensor(np.ones(4), requires_grad=True)
    with pytest.raises(ValueError, match="norm"):
        cr.fft.fft(x, norm="bad")
    with pytest.raises(TypeError, match="real"):
        cr.fft.rfft(cr.fft.fft(x))
    with pytest.raises(ValueError, match="data points"):
        cr.fft.fft(x, n=0)
    with pytest.raises(np.exceptions.AxisError):
        cr.fft.fft(x, axis=1)
    assert cnp.fft.fftfreq(4).tolist() == [0.0, 0.25, -0.5, -0.25]
