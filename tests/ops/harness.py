"""The sample-table harness: each primitive against NumPy, and its derivatives by cr.gradcheck (all orders, modes)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from chainrule.core import primitive as _primitive
from chainrule.core.backward import grad_of
from chainrule.core.tensor import Tensor
from chainrule.testing import GradcheckError, GradcheckWarning, gradcheck

EPS = 1e-6
SAMPLE = 24  # entries checked one by one (drawn at random) of an input too large to check them all


@dataclass
class Case:
    """One sample: ``fn`` applied to Tensors made from ``args`` (float64 arrays, the differentiable inputs).

    ``name`` is the primitive the case exercises: the harness checks that it really
    runs (the coverage test counts those runs); ``ref`` is the NumPy reference on
    the same arrays; ``label`` tells apart cases of one primitive. Switch off a check
    only with a reason in ``why``. ``f32_tol`` is the relative tolerance of the
    float32 run against float64 (values and gradients).

    At a kink or a tie, where central differences straddle two pieces, ``grad_ref(u,
    *args)`` gives the documented gradient (a list, one per input) to check instead,
    and ``order2_zero`` says the function is piecewise linear there, so the second-order
    term must be exactly 0 (forward and reverse mode must still agree).
    """

    name: str
    fn: Callable
    args: tuple
    ref: Callable | None = None
    label: str = ""
    order2: bool = True
    fwd: bool = True
    f32: bool = True
    atol: float = 1e-6
    rtol: float = 1e-4
    f32_tol: float = 1e-4
    grad_ref: Callable | None = None
    order2_zero: bool = False
    why: str = ""
    extra: dict = field(default_factory=dict)

    def __str__(self):
        shapes = ",".join("x".join(map(str, np.shape(a))) or "0d" for a in self.args)
        return f"{self.name}[{self.label or shapes}]"


def executed(case):
    """Names of the differentiable primitives that one forward run of ``case`` executes (via the tracer
    hook of ``apply``, with inputs that require grad)."""
    trace = []
    with _primitive.tracing(trace.append):
        case.fn(*[Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in case.args])
    return {entry[0].name for entry in trace}


def _call(case, arrays):
    out = case.fn(*[Tensor(a) for a in arrays])
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _close(a, b, case, what):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if not np.allclose(a, b, atol=case.atol, rtol=case.rtol, equal_nan=True):
        raise AssertionError(f"{case}: {what} differ\n analytic={a}\n reference={b}")


def _vjp(case, arrays, u):
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = case.fn(*xs)
    return xs, out, grad_of([out], xs, [u], allow_unused=True)


def _grads_np(gs, arrays):
    return [np.zeros_like(a) if g is None else np.asarray(g.data, dtype=np.float64) for g, a in zip(gs, arrays)]


def check_case(case, seed=0):
    """Run every check of one case; raise AssertionError naming the case and the quantity.

    The derivatives are checked by :func:`chainrule.testing.gradcheck` (reverse
    mode entry by entry, 24 entries drawn at random of a larger input; forward
    mode; their agreement; second order), with the case's tolerances.
    """
    arrays = [np.array(a, dtype=np.float64) for a in case.args]
    ran = executed(case)
    nondiff = case.name in _primitive.NONDIFFERENTIABLE  # those return before the tracer sees them
    assert nondiff or case.name in ran, f"{case}: the case never runs primitive {case.name!r} (it ran {sorted(ran)})"
    y = _call(case, arrays)
    if case.ref is not None:
        _close(y, case.ref(*arrays), case, "forward value and NumPy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradcheckWarning)  # a missing forward rule fails the case, not a warning
        try:
            gradcheck(case.fn, tuple(arrays), EPS, case.atol, case.rtol, forward=case.fwd, seed=seed, sample=SAMPLE,
                      second_order=case.order2, piecewise_linear=case.order2_zero, expected=case.grad_ref)
        except GradcheckError as e:
            raise AssertionError(f"{case}: {e}") from e
    if case.f32:
        u = np.random.default_rng(seed).standard_normal(y.shape)
        _check_float32(case, arrays, y, u)


def _check_float32(case, arrays, y, u):
    """float32 in gives float32 values and gradients, equal to the float64 ones to float32 precision."""
    xs = [Tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = case.fn(*xs)
    assert out.dtype == np.float32, f"{case}: float32 inputs gave a {out.dtype} result"
    _close32(out.data, y, case, "float32 forward value and float64")
    gs = grad_of([out], xs, [Tensor(u.astype(np.float32))], allow_unused=True)
    _, _, g64 = _vjp(case, arrays, Tensor(u))
    for i, (g, g_ref) in enumerate(zip(gs, _grads_np(g64, arrays))):
        assert g is None or g.dtype == np.float32, f"{case}: float32 inputs gave a {g.dtype} gradient"
        if g is not None:
            _close32(g.data, g_ref, case, f"float32 gradient of input {i} and float64")


def _close32(a, b, case, what):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(b[np.isfinite(b)]), initial=0.0)))
    if not np.allclose(a, b, rtol=case.f32_tol, atol=case.f32_tol * scale, equal_nan=True):
        raise AssertionError(f"{case}: {what} differ beyond float32 precision\n float32={a}\n float64={b}")
