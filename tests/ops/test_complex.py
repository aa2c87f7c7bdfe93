"""Complex numbers with PyTorch's convention: z.grad = ∂L/∂Re z + i ∂L/∂Im z for a real loss L.

Checked four ways: the sample table (tests/ops/samples/complex_numbers.py, through the
harness), closed forms, central differences on the real and imaginary parts taken
separately, forward against reverse mode; and, where torch is installed, against PyTorch.
"""

import warnings

import numpy as np
import pytest

import chainrule as cr

from tests.ops.harness import check_case
from tests.ops.samples.complex_numbers import CASES

rng = np.random.default_rng(5)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def grad_of(f, z):
    z = cr.tensor(np.array(z, dtype=np.complex128), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning anywhere on the way
        f(z).backward()
    return z.grad.data


def numeric_grad(f, z, eps=1e-6):
    """∂L/∂Re z + i ∂L/∂Im z by central differences, perturbing Re and Im of each entry separately."""
    z = np.array(z, dtype=np.complex128)
    out = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        parts = []
        for step in (eps, 1j * eps):
            hi, lo = z.copy(), z.copy()
            hi[idx] += step
            lo[idx] -= step
            parts.append((float(f(cr.tensor(hi)).item()) - float(f(cr.tensor(lo)).item())) / (2 * eps))
        out[idx] = parts[0] + 1j * parts[1]
    return out


def cz(*shape):
    return rng.uniform(0.3, 1.2, shape) + 1j * rng.uniform(0.2, 1.0, shape)


# ---- closed forms ------------------------------------------------------------------------------------
Z = np.array([3 + 4j, -1 + 0.5j, 0.2 - 2j])


@pytest.mark.parametrize("f", [lambda z: (cr.abs(z) ** 2).sum(), lambda z: cr.real(z * z.conj()).sum(),
                               lambda z: cr.real((z * z.conjugate()).sum()),
                               lambda z: cr.abs(z * z).sum()],
                         ids=["abs**2", "real(z conj z)", "z conj z", "abs(z*z)"])
def test_squared_modulus_gives_2z(f):
    np.testing.assert_allclose(grad_of(f, Z), 2 * Z, rtol=1e-12)


def test_the_issues_cases():
    # |exp z| = e^{Re z}: the gradient is e^{Re z} (real), PyTorch's 2.718 at z = 1 + 1j (was -1.78-2.06j)
    np.testing.assert_allclose(grad_of(lambda z: cr.abs(cr.exp(z)), 1 + 1j), np.e, rtol=1e-12)
    np.testing.assert_allclose(grad_of(lambda z: cr.abs(cr.exp(z)).sum(), Z), np.exp(Z.real), rtol=1e-12)
    # |1/z| = 1/|z|: -z/|z|³
    np.testing.assert_allclose(grad_of(lambda z: cr.abs(1 / z).sum(), Z), -Z / np.abs(Z) ** 3, rtol=1e-12)
    # holomorphic f: ḡ·conj(f'(z)), so Re(z²) gives conj(2z)
    np.testing.assert_allclose(grad_of(lambda z: cr.real(z * z).sum(), Z), np.conj(2 * Z), rtol=1e-12)
    np.testing.assert_allclose(grad_of(lambda z: cr.imag(z).sum(), Z), 1j * np.ones(3))
    np.testing.assert_allclose(grad_of(lambda z: cr.angle(z).sum(), Z), 1j * Z / np.abs(Z) ** 2, rtol=1e-12)
    np.testing.assert_allclose(grad_of(lambda z: cr.imag(cr.conj(z)).sum(), Z), -1j * np.ones(3))


def test_conj_conjugates_in_every_spelling():
    t = cr.tensor(Z)
    for c in (t.conj(), t.conjugate(), cr.conj(t), cr.conjugate(t), np.conj(t), np.conjugate(t)):
        assert isinstance(c, cr.Tensor)
        np.testing.assert_array_equal(c.data, np.conj(Z))
    assert isinstance(np.real(t), cr.Tensor) and isinstance(np.angle(t), cr.Tensor)
    np.testing.assert_array_equal(np.imag(t).data, Z.imag)
    np.testing.assert_allclose(np.angle(t, deg=True).data, np.angle(Z, deg=True))
    assert cr.numpy.conj is cr.conj and cr.numpy.real is cr.real
    np.testing.assert_array_equal(t.real.data, Z.real)  # ndarray's attributes, PyTorch's too
    np.testing.assert_array_equal(t.imag.data, Z.imag)
    np.testing.assert_array_equal(t.angle().data, np.angle(Z))


def test_angle_at_zero_is_zero_not_nan():
    g = grad_of(lambda z: cr.angle(z).sum() + cr.abs(z).sum(), np.array([0j, 1j]))
    np.testing.assert_allclose(g, [0, -1 + 1j])


# ---- central differences on Re and Im ----------------------------------------------------------------
W = cz(3, 3)
FUNCTIONS = {
    "|exp z|": lambda z: cr.abs(cr.exp(z)).sum(),
    "Re(sin z · conj z)": lambda z: cr.real(cr.sin(z) * cr.conj(z)).sum(),
    "|z z|": lambda z: cr.abs(z * z).sum(),
    "|1/z|": lambda z: cr.abs(1 / z).sum(),
    "angle(z)": lambda z: cr.angle(z).sum(),
    "Im(log z)": lambda z: cr.imag(cr.log(z)).sum(),
    "|z|^3": lambda z: (cr.abs(z) ** 3).sum(),
    "Re(z^z)": lambda z: cr.real(z ** z).sum(),
    "|sqrt(z) / (1 + z²)|": lambda z: cr.abs(cr.sqrt(z) / (1 + z * z)).sum(),
    "|W z|": lambda z: cr.norm(W @ z),
    "Re(det(W + diag z))": lambda z: cr.real(cr.linalg.det(W + cr.einsum("i,ij->ij", z, cr.tensor(np.eye(3))))),
    "|inv(W) z|²": lambda z: (cr.abs(cr.linalg.solve(W, z)) ** 2).sum(),
    "Re(prod z) + Im(logsumexp z)": lambda z: cr.real(cr.prod(z)) + cr.imag(cr.logsumexp(z)),
    "|softmax z| + Re(log_softmax z)": lambda z: (cr.abs(cr.softmax(z)).sum()
                                                  + cr.real(cr.log_softmax(z) * (1 - 2j)).sum()),
    "real input through complex": lambda z: cr.abs(cr.real(z) * (1 + 2j) + cr.imag(z)).sum(),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_reverse_mode_against_central_differences_in_re_and_im(name):
    f = FUNCTIONS[name]
    z = cz(3)
    np.testing.assert_allclose(grad_of(f, z), numeric_grad(f, z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_forward_mode_agrees_with_reverse(name):
    # for a real L: the tangent along v is Re⟨z.grad, v⟩ = Re Σ conj(z.grad)·v
    f = FUNCTIONS[name]
    z, v = cz(3), cz(3) - (0.7 + 0.6j)
    _, tangent = cr.jvp(f, (cr.tensor(z),), (cr.tensor(v),))
    np.testing.assert_allclose(float(tangent.item()), np.real(np.vdot(grad_of(f, z), v)), rtol=1e-10)


# ---- the engine: complex cotangents and real values ---------------------------------------------------
def test_a_complex_cotangent_reaching_a_real_input_keeps_its_real_part_without_warning():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.abs(x * (3 + 4j)).sum().backward()  # |x|·5
    np.testing.assert_allclose(x.grad.data, [5.0, 5.0])
    assert x.grad.dtype == np.float64
    x32 = cr.tensor(np.float32([1.0, -2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.imag(cr.astype(x32, np.complex64) * 1j).sum().backward()  # Im(i x) = x
    assert x32.grad.dtype == np.float32
    np.testing.assert_allclose(x32.grad.data, [1.0, 1.0])


def test_a_complex_grad_for_a_real_output_is_an_error_naming_both_dtypes():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * x
    with pytest.raises(TypeError, match=r"complex128.*float64"):
        y.backward(np.array(1 + 1j))
    with pytest.raises(TypeError, match=r"complex128.*float64"):
        y.backward(cr.tensor(1 + 1j))
    with pytest.raises(TypeError, match=r"complex128.*float64"):
        cr.autograd.grad([y], [x], [cr.tensor(1 + 1j)])
    _, pullback = cr.vjp(lambda t: t * t, cr.tensor(2.0))
    with pytest.raises(TypeError, match=r"complex128.*float64"):
        pullback(cr.tensor(1 + 1j))
    x.grad = None
    y.backward(np.array(1.0))  # a real grad is still fine
    assert x.grad.item() == 4.0


def test_a_complex_output_needs_its_grad_given():
    z = cr.tensor(1 + 2j, requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar output"):
        (z * z).backward()
    with pytest.raises(TypeError, match="must be real"):
        cr.grad(lambda z: z * z)(cr.tensor(1 + 2j))
    np.testing.assert_allclose(cr.grad(lambda z: cr.abs(z * z))(cr.tensor(3 + 4j)).data, 6 + 8j)


def test_complex_output_takes_a_complex_grad():
    z = cr.tensor(1 + 2j, requires_grad=True)
    (z * z).backward(np.array(1j))
    np.testing.assert_allclose(z.grad.data, 1j * np.conj(2 * (1 + 2j)))


def test_second_order_through_abs_of_complex():
    # ∂/∂x of (∂|z|²/∂Re z = 2x) is 2: the Hessian of |z|² in (x, y) is 2I
    def f(v):
        z = v[0] + 1j * v[1]
        return cr.abs(z) ** 2

    np.testing.assert_allclose(cr.hessian(f)(cr.tensor([0.3, -0.4])).data, 2 * np.eye(2), atol=1e-12)


# ---- against PyTorch, where it is installed (CI has none: every check above runs without it) ---------
TORCH_CASES = {
    "abs exp": (lambda m: lambda z: m.abs(m.exp(z)).sum(), 1),
    "real z*z": (lambda m: lambda z: m.real(z * z).sum(), 1),
    "angle": (lambda m: lambda z: m.angle(z).sum(), 1),
    "imag log": (lambda m: lambda z: m.imag(m.log(z)).sum(), 1),
    "abs 1/z": (lambda m: lambda z: m.abs(1 / z).sum(), 1),
    "abs sqrt tanh": (lambda m: lambda z: m.abs(m.sqrt(z) * m.tanh(z)).sum(), 1),
    "abs z**w": (lambda m: lambda z, w: m.abs(z ** w).sum(), 2),
    "abs z/w": (lambda m: lambda z, w: m.abs(z / w).sum(), 2),
    "real conj z * w": (lambda m: lambda z, w: m.real(m.conj(z) * w).sum(), 2),
    "abs matmul": (lambda m: lambda a, b: m.abs(m.matmul(a, b)).sum(), 2),
    "abs arcsin cosh": (lambda m: lambda z: m.abs(m.arcsin(z) + m.cosh(z)).sum(), 1),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_against_pytorch(name):
    torch = pytest.importorskip("torch")
    make, n = TORCH_CASES[name]
    shape = (3, 3) if "matmul" in name else (4,)
    zs = [cz(*shape) for _ in range(n)]
    ours = [cr.tensor(z, requires_grad=True) for z in zs]
    make(cr)(*ours).backward()
    theirs = [torch.tensor(z, requires_grad=True) for z in zs]
    make(_TorchNames(torch))(*theirs).backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.resolve_conj().numpy(), rtol=1e-10, atol=1e-12)


class _TorchNames:
    """torch under NumPy's names (arcsin for asin), so one lambda serves both libraries."""

    def __init__(self, torch):
        self.torch = torch

    def __getattr__(self, name):
        return getattr(self.torch, {"arcsin": "asin"}.get(name, name))


def _herm(m, z):
    """z zᴴ + I: Hermitian positive definite (m is chainrule or torch)."""
    return z @ z.conj().swapaxes(-1, -2) + m.eye(z.shape[-1])


def _abs2(z):
    return (z * z.conj()).real


def _svd_loss(usvh, z):
    # the singular values, |U|² and U Vh: independent of the common phase of u_j and v_j
    u, s, vh = usvh
    return (s * s).sum() + (_abs2(u) * z[:u.shape[0], :u.shape[1]].real).sum() + ((u @ vh) * z).real.sum()


TORCH_LINALG = {  # loss(m, linalg, z): the same expression under chainrule and torch
    "cholesky": lambda m, la, z: _abs2(la.cholesky(_herm(m, z)) * z).sum(),
    "cholesky upper": lambda m, la, z: _abs2(la.cholesky(_herm(m, z), upper=True) @ z).sum(),
    "qr": lambda m, la, z: (_abs2(la.qr(z)[0] * z) + (la.qr(z)[1] * z).real).sum(),
    "qr tall": lambda m, la, z: (_abs2(la.qr(z[:, :2])[0]) * z[:, :2].real).sum() + la.qr(z[:, :2])[1].imag.sum(),
    "slogdet": lambda m, la, z: la.slogdet(z)[1] + (la.slogdet(z)[0] * (2 + 1j)).real,
    "pinv": lambda m, la, z: (la.pinv(z[:2]) * z[:, :2]).real.sum(),
    "eigh": lambda m, la, z: (la.eigh(_herm(m, z))[0] * m.arange(3.0)).sum()
    + (_abs2(la.eigh(_herm(m, z))[1]) * z.real).sum(),
    "eigvalsh": lambda m, la, z: (la.eigvalsh(_herm(m, z)) ** 2).sum(),
    "svd": lambda m, la, z: _svd_loss(la.svd(z[:2], full_matrices=False), z[:2]),
    "svd tall": lambda m, la, z: _svd_loss(la.svd(z[:, :2], full_matrices=False), z[:, :2]),
    "svdvals": lambda m, la, z: (la.svdvals(z) ** 3).sum(),
    "eigvals": lambda m, la, z: (la.eigvals(z) * m.arange(1.0, 4.0)).real.sum() + la.eigvals(z).abs().sum(),
    "eig |V|²": lambda m, la, z: (_abs2(la.eig(z)[1]) * z.real).sum(),
}


@pytest.mark.parametrize("name", TORCH_LINALG)
def test_linalg_against_pytorch(name):
    torch = pytest.importorskip("torch")
    z = cz(3, 3) - 0.7
    ours = cr.tensor(z, requires_grad=True)
    TORCH_LINALG[name](cr, cr.linalg, ours).backward()
    theirs = torch.tensor(z, requires_grad=True)
    TORCH_LINALG[name](torch, torch.linalg, theirs).backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.resolve_conj().numpy(), rtol=1e-8, atol=1e-10)


def test_eigvals_of_a_real_matrix_against_pytorch_and_differences():
    # |eigvals| of a real matrix with a complex pair: the gradient is real, and equals PyTorch's and central differences
    a = np.random.default_rng(3).standard_normal((4, 4))
    assert np.iscomplexobj(np.linalg.eigvals(a))
    ours = cr.grad(lambda x: cr.abs(cr.linalg.eigvals(x)).sum())(a)
    ref = lambda x: np.abs(np.linalg.eigvals(x)).sum()
    numeric = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = 1e-6
        numeric[idx] = (ref(a + e) - ref(a - e)) / 2e-6
    np.testing.assert_allclose(np.asarray(ours.data), numeric, atol=1e-7)
    torch = pytest.importorskip("torch")
    t = torch.tensor(a, requires_grad=True)
    torch.linalg.eigvals(t).abs().sum().backward()
    np.testing.assert_allclose(np.asarray(ours.data), t.grad.numpy(), rtol=1e-8, atol=1e-10)
