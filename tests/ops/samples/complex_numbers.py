"""Sample cases with complex values: conj, real, imag, angle, and the elementwise family on complex inputs.

The harness (and cr.gradcheck) checks real functions of real inputs, so each case
takes the real and imaginary parts as two real inputs, builds z = a + i·b, and
returns the real and imaginary parts of the result, stacked. Central differences in
a and b are then exactly ∂/∂Re z and ∂/∂Im z, and the reverse rule reaching a and b
through z = a + i·b gives Re and Im of z.grad: the cases check PyTorch's convention
(z.grad = ∂L/∂Re z + i ∂L/∂Im z) of every rule on the way, in both modes, to second
order, in float32 (complex64) and under vmap, with no extension of the harness.
"""

import numpy as np

import chainrule as cr
from chainrule.ops import complex_numbers as C
from chainrule.ops import elementwise as E

from tests.ops.harness import Case

rng = np.random.default_rng(11)


def re(*shape):
    return rng.uniform(0.3, 0.9, shape)


def im(*shape):
    # Im z > 0.2: away from every branch cut (all lie on the real or imaginary axis, or outside the unit box)
    return rng.uniform(0.2, 0.8, shape)


def parts(w):
    """The real and imaginary parts of a complex result, stacked (a real array the harness can check)."""
    return cr.stack([C.real(w), C.imag(w)])


def np_parts(w):
    return np.stack([np.real(w), np.imag(w)])


def complex_case(name, f, ref, n=1, shapes=((), (2, 3)), label=""):
    """Cases of ``f`` on ``n`` complex inputs z_k = a_k + i·b_k, all of each shape in ``shapes``."""
    return [complex_shapes(name, f, ref, (shape,) * n, label) for shape in shapes]


def complex_shapes(name, f, ref, shapes, label=""):
    """One case of ``f`` on complex inputs of the given shapes (one per input)."""
    n = len(shapes)

    def fn(*ab):
        return parts(f(*[ab[2 * k] + 1j * ab[2 * k + 1] for k in range(n)]))

    def np_fn(*ab):
        return np_parts(ref(*[ab[2 * k] + 1j * ab[2 * k + 1] for k in range(n)]))

    args = tuple(draw(*shape) for shape in shapes for draw in (re, im))
    text = ",".join("x".join(map(str, shape)) or "0d" for shape in shapes)
    return Case(name, fn, args, np_fn, label=f"complex{label} {text}")


HOLOMORPHIC = [  # the elementwise family's holomorphic functions: their rules are ḡ·conj(f'(z))
    "negative", "positive", "exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "sqrt", "square",
    "reciprocal", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh",
]
BINARY = ["add", "subtract", "multiply", "divide", "power"]

CASES = []
for _name in HOLOMORPHIC:
    CASES += complex_case(_name, getattr(E, _name), getattr(np, _name))
for _name in BINARY:
    CASES += complex_case(_name, getattr(E, _name), getattr(np, _name), n=2)
CASES += complex_case("power", lambda z: z ** 3, lambda z: z ** 3, label=" cube")
CASES += complex_case("power", lambda z: E.power(z, 0.5 + 0.25j), lambda z: z ** (0.5 + 0.25j), label=" const exp")
CASES += complex_case("multiply", lambda z: z * (2 - 3j), lambda z: z * (2 - 3j), label=" by constant")
CASES += complex_case("divide", lambda z: (1 + 1j) / z, lambda z: (1 + 1j) / z, label=" of constant")

# the non-holomorphic ones: their real results are returned as they are
_real_out = [
    ("abs", E.abs, np.abs),
    ("real", C.real, np.real),
    ("imag", C.imag, np.imag),
    ("angle", C.angle, np.angle),
]
for _name, _f, _ref in _real_out:
    CASES += [
        Case(_name, lambda a, b, f=_f: f(a + 1j * b), (re(), im()), lambda a, b, r=_ref: r(a + 1j * b),
             label="complex 0d"),
        Case(_name, lambda a, b, f=_f: f(a + 1j * b), (re(2, 3) - 0.6, im(2, 3) - 0.5),
             lambda a, b, r=_ref: r(a + 1j * b), label="complex 2x3, all quadrants"),
    ]
CASES += complex_case("conj", C.conj, np.conj)
CASES += complex_case("conj", lambda z: C.conj(z) * z, lambda z: np.conj(z) * z, label=" |z|²")
CASES += complex_case("abs", lambda z: E.abs(E.exp(z)) * z, lambda z: np.abs(np.exp(z)) * z, label=" |exp z|·z")
CASES += [
    # real inputs: real is the identity, imag and angle are constant (their gradients 0)
    Case("real", C.real, (re(2, 3) - 0.6,), np.real, label="real input"),
    Case("imag", lambda x: C.imag(x) + x, (re(2, 3) - 0.6,), lambda x: np.imag(x) + x, label="real input"),
    Case("angle", lambda x: C.angle(x) + x, (re(2, 3) - 0.6,), lambda x: np.angle(x) + x, label="real input"),
    Case("angle", lambda a, b: C.angle(a + 1j * b, deg=True), (re(3), im(3)),
         lambda a, b: np.angle(a + 1j * b, deg=True), label="complex deg"),
]

# products, reductions and linear algebra: the other operand (or the result) enters conjugated
CASES += [
    complex_shapes("matmul", lambda a, b: a @ b, lambda a, b: a @ b, ((2, 3), (3, 2))),
    complex_shapes("matmul", lambda a, b: a @ b, lambda a, b: a @ b, ((3,), (3, 2)), label=" vector"),
    complex_shapes("matmul", cr.vdot, np.vdot, ((4,), (4,)), label=" vdot"),
    complex_shapes("tensordot", lambda a, b: cr.tensordot(a, b, axes=1), lambda a, b: np.tensordot(a, b, axes=1),
                   ((2, 3), (3, 2))),
    complex_shapes("einsum", lambda a, b: cr.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b),
                   ((2, 3), (3, 2))),
    complex_shapes("prod", lambda z: cr.prod(z, axis=0), lambda z: np.prod(z, axis=0), ((3, 2),)),
    complex_shapes("logsumexp", lambda z: cr.logsumexp(z, axis=0), lambda z: np.log(np.sum(np.exp(z), axis=0)),
                   ((3, 2),)),
    complex_shapes("inv", cr.linalg.inv, np.linalg.inv, ((3, 3),)),
    complex_shapes("det", cr.linalg.det, np.linalg.det, ((3, 3),)),
    complex_shapes("solve", cr.linalg.solve, np.linalg.solve, ((3, 3), (3, 2))),
    complex_shapes("solve", cr.linalg.solve, np.linalg.solve, ((3, 3), (3,)), label=" vector"),
]
for _ord in (None, 3):  # |z| inside (ord=1 is abs and sum): real results, returned as they are
    CASES += [Case("norm", lambda a, b, o=_ord: cr.norm(a + 1j * b, ord=o, axis=0), (re(3, 2), im(3, 2)),
                   lambda a, b, o=_ord: np.linalg.norm(a + 1j * b, ord=o, axis=0), label=f"complex ord={_ord}")]

# decompositions of complex matrices: Hermitian-transposed rules (cholesky reads the lower triangle and the real part
# of the diagonal, as LAPACK; z + 4·I is then Hermitian positive definite, its diagonal dominating)


def _eye3(z):
    return np.eye(3, dtype=z.dtype)  # in z's precision: float32 stays float32


CASES += [
    complex_shapes("cholesky", lambda z: cr.linalg.cholesky(z + 4 * _eye3(z)),
                   lambda z: np.linalg.cholesky(z + 4 * _eye3(z)), ((3, 3),)),
    complex_shapes("cholesky", lambda z: cr.linalg.cholesky(z @ cr.conj(cr.swapaxes(z, -1, -2)) + _eye3(z), upper=True),
                   lambda z: np.conj(np.linalg.cholesky(z @ np.conj(z).swapaxes(-1, -2) + _eye3(z))).swapaxes(-1, -2),
                   ((3, 3),), label=" z zᴴ + I, upper"),
    complex_shapes("qr", lambda z: cr.stack(cr.linalg.qr(z)), lambda z: np.stack(np.linalg.qr(z)), ((3, 3),)),
    complex_shapes("qr", lambda z: cr.linalg.qr(z)[0] @ cr.linalg.qr(z)[1][..., :1],
                   lambda z: np.linalg.qr(z)[0] @ np.linalg.qr(z)[1][..., :1], ((4, 2),), label=" tall"),
    complex_shapes("qr", lambda z: cr.linalg.qr(z, mode="r"), lambda z: np.linalg.qr(z, mode="r"), ((2, 3),),
                   label=" wide"),
    complex_shapes("qr", lambda z: cr.linalg.qr(z, mode="complete")[1], lambda z: np.linalg.qr(z, mode="complete")[1],
                   ((4, 2),), label=" complete"),
    complex_shapes("slogdet_phase", lambda z: cr.linalg.slogdet(z + 2 * _eye3(z))[0],
                   lambda z: np.linalg.slogdet(z + 2 * _eye3(z))[0], ((3, 3),)),
    Case("logabsdet", lambda a, b: cr.linalg.slogdet(a + 1j * b)[1], (re(3, 3), im(3, 3)),
         lambda a, b: np.linalg.slogdet(a + 1j * b)[1], label="complex 3x3"),
    complex_shapes("pinv", cr.linalg.pinv, np.linalg.pinv, ((3, 2),)),
    complex_shapes("pinv", cr.linalg.pinv, np.linalg.pinv, ((2, 3),), label=" wide"),
    complex_shapes("pinv", cr.linalg.pinv, np.linalg.pinv, ((2, 3, 3),), label=" batched"),
]

# convolve and correlate of complex sequences, composites of pad and multiply (correlate conjugates its second
# operand, as NumPy)
for _mode in ("full", "same", "valid"):
    for _shapes in (((5,), (3,)), ((2,), (4,))):
        CASES += [
            complex_shapes("pad", lambda a, v, m=_mode: cr.convolve(a, v, mode=m),
                           lambda a, v, m=_mode: np.convolve(a, v, mode=m), _shapes, label=f" convolve {_mode}"),
            complex_shapes("conj", lambda a, v, m=_mode: cr.correlate(a, v, mode=m),
                           lambda a, v, m=_mode: np.correlate(a, v, mode=m), _shapes, label=f" correlate {_mode}"),
        ]

# eigh and svd of complex matrices, through functions that do not depend on a vector's free phase (the eigenvalues,
# |V|², V f(w) Vᴴ; the singular values, |U|², |Vh|², U Vh, the projector onto the completion columns)


def _mh(x):
    return C.conj(cr.swapaxes(x, -1, -2))


def _np_mh(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _abs2(x):
    return C.real(x * C.conj(x))


def _eigh_fn(z, uplo="L"):
    w, v = cr.linalg.eigh(z, UPLO=uplo)
    return v @ (cr.exp(w)[..., None] * _mh(v))


def _np_eigh_fn(z, uplo="L"):
    w, v = np.linalg.eigh(z, UPLO=uplo)
    return v @ (np.exp(w)[..., None] * _np_mh(v))


def _svd(full, pick):
    def fn(z):
        u, s, vh = cr.linalg.svd(z, full_matrices=full)
        return pick(u, s, vh, _abs2, _mh)

    def ref(z):
        u, s, vh = np.linalg.svd(z, full_matrices=full)
        return pick(u, s, vh, lambda x: np.abs(x) ** 2, _np_mh)

    return fn, ref


_SVD_PICKS = {
    "s": lambda u, s, vh, a2, h: s,
    "|U|²": lambda u, s, vh, a2, h: a2(u[..., :s.shape[-1]]),
    "|Vh|²": lambda u, s, vh, a2, h: a2(vh[..., :s.shape[-1], :]),
    "U Vh": lambda u, s, vh, a2, h: u[..., :s.shape[-1]] @ vh[..., :s.shape[-1], :],
    "U₂U₂ᴴ": lambda u, s, vh, a2, h: u[..., s.shape[-1]:] @ h(u[..., s.shape[-1]:]),
    "V₂V₂ᴴ": lambda u, s, vh, a2, h: h(vh[..., s.shape[-1]:, :]) @ vh[..., s.shape[-1]:, :],
}

CASES += [
    complex_shapes("eigh", lambda z: cr.linalg.eigvalsh(z), np.linalg.eigvalsh, ((3, 3),), label=" eigvalsh"),
    complex_shapes("eigh", lambda z: _abs2(cr.linalg.eigh(z)[1]), lambda z: np.abs(np.linalg.eigh(z)[1]) ** 2,
                   ((3, 3),), label=" |V|²"),
    complex_shapes("eigh", _eigh_fn, _np_eigh_fn, ((3, 3),), label=" V exp(w) Vᴴ"),
    complex_shapes("eigh", lambda z: _eigh_fn(z, "U"), lambda z: _np_eigh_fn(z, "U"), ((2, 3, 3),),
                   label=" upper, batched"),
]
for _shape in ((3, 3), (4, 2), (2, 4)):
    for _pick in ("s", "|U|²", "|Vh|²", "U Vh"):
        CASES.append(complex_shapes("svd", *_svd(False, _SVD_PICKS[_pick]), (_shape,), label=f" {_pick}"))
for _shape, _pick in (((4, 2), "U₂U₂ᴴ"), ((2, 4), "V₂V₂ᴴ"), ((4, 2), "U Vh")):
    CASES.append(complex_shapes("svd", *_svd(True, _SVD_PICKS[_pick]), (_shape,), label=f" full {_pick}"))
CASES += [
    complex_shapes("svd", lambda z: cr.linalg.svdvals(z), lambda z: np.linalg.svd(z, compute_uv=False), ((2, 3, 2),),
                   label=" svdvals batched"),
    Case("svd", lambda a, b: cr.norm(a + 1j * b, ord="nuc"), (re(3, 3), im(3, 3)),
         lambda a, b: np.linalg.norm(a + 1j * b, ord="nuc"), label="complex nuclear norm"),
]

# lstsq of complex systems: x = pinv(a) b, and the residuals Σ|a x − b|² (real)
CASES += [
    complex_shapes("pinv", lambda a, b: cr.linalg.lstsq(a, b)[0], lambda a, b: np.linalg.lstsq(a, b)[0],
                   ((3, 2), (3,)), label=" lstsq x"),
    Case("pinv", lambda a, b, c, d: cr.linalg.lstsq(a + 1j * b, c + 1j * d)[1],
         (re(3, 2), im(3, 2), re(3, 2), im(3, 2)),
         lambda a, b, c, d: np.linalg.lstsq(a + 1j * b, c + 1j * d)[1], label="complex lstsq residuals"),
]

# statistics and NumPy's elementwise extras on complex values: var/std/nanvar/nanstd are real (of |z − mean|²)
_ZN = re(3, 4)
_ZN[0, 1] = _ZN[2, 3] = np.nan  # a NaN real part makes the entry NaN
_INFS = np.array([1.5, np.nan, np.inf, -0.3, -np.inf, 2.0])
CASES += [
    Case("sum", lambda a, b: cr.nanvar(a + 1j * b, axis=0), (_ZN, im(3, 4)), lambda a, b: np.nanvar(a + 1j * b, axis=0),
         label="complex nanvar"),
    Case("sqrt", lambda a, b: cr.nanstd(a + 1j * b, axis=1, ddof=1), (_ZN, im(3, 4)),
         lambda a, b: np.nanstd(a + 1j * b, axis=1, ddof=1), label="complex nanstd ddof=1"),
    complex_shapes("sum", lambda z: cr.nanmean(z, axis=1), lambda z: np.nanmean(z, axis=1), ((3, 4),),
                   label=" nanmean"),
    Case("var", lambda a, b: cr.var(a + 1j * b, axis=0, ddof=1), (re(3, 4), im(3, 4)),
         lambda a, b: np.var(a + 1j * b, axis=0, ddof=1), label="complex var"),
    Case("std", lambda a, b: cr.std(a + 1j * b), (re(3, 4), im(3, 4)), lambda a, b: np.std(a + 1j * b),
         label="complex std"),
    complex_shapes("sum", lambda z: cr.average(z, axis=0, weights=np.arange(1.0, 4.0, dtype=z.real.dtype)),
                   lambda z: np.average(z, axis=0, weights=np.arange(1.0, 4.0)), ((3, 2),), label=" average"),
    Case("sum", lambda a, b: cr.var(a + 1j * b, axis=1, where=np.array([True, False, True, True])),
         (re(3, 4), im(3, 4)), lambda a, b: np.var(a + 1j * b, axis=1, where=np.array([True, False, True, True])),
         label="complex var where="),
    *complex_case("sinc", cr.sinc, np.sinc),
    complex_shapes("sinc", lambda z: cr.sinc(z * 0.1), lambda z: np.sinc(z * 0.1), ((4,),), label=" near 0"),
    Case("where", lambda a, b: parts(cr.nan_to_num(a + 1j * b, posinf=7.0, neginf=-7.0)), (_INFS, im(6)),
         lambda a, b: np_parts(np.nan_to_num(a + 1j * b, posinf=7.0, neginf=-7.0)), label="complex nan_to_num"),
]

# eig of a complex matrix: the eigenvalues, and |V|² (independent of each vector's phase)
CASES += [
    complex_shapes("eig", cr.linalg.eigvals, np.linalg.eigvals, ((3, 3),), label=" eigvals"),
    complex_shapes("eig", lambda z: _abs2(cr.linalg.eig(z)[1]), lambda z: np.abs(np.linalg.eig(z)[1]) ** 2,
                   ((3, 3),), label=" |V|²"),
    complex_shapes("eig", lambda z: cr.linalg.eigvals(z), np.linalg.eigvals, ((2, 3, 3),), label=" batched"),
]
