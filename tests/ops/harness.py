"""The sample-table harness: each primitive against NumPy, finite differences, forward mode and second order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from chainrule.core import primitive as _primitive
from chainrule.core.backward import grad_of
from chainrule.core.forward import level, make_dual, tangent_of
from chainrule.core.tensor import Tensor

EPS = 1e-6


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


def _inner(u, v):
    return float(np.sum(np.asarray(u, dtype=np.float64) * np.asarray(v, dtype=np.float64)))


def _close(a, b, case, what):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if not np.allclose(a, b, atol=case.atol, rtol=case.rtol, equal_nan=True):
        raise AssertionError(f"{case}: {what} differ\n analytic={a}\n reference={b}")


def _vjp(case, arrays, u, create_graph=False):
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = case.fn(*xs)
    gs = grad_of([out], xs, [u], create_graph=create_graph, allow_unused=True)
    return xs, out, gs


def _grads_np(gs, arrays):
    return [np.zeros_like(a) if g is None else np.asarray(g.data, dtype=np.float64) for g, a in zip(gs, arrays)]


def _dot(g, w):
    return (g * Tensor(w)).sum()


def check_case(case, seed=0):
    """Run every check of one case; raise AssertionError naming the case and the quantity."""
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) for a in case.args]
    ran = executed(case)
    nondiff = case.name in _primitive.NONDIFFERENTIABLE  # those return before the tracer sees them
    assert nondiff or case.name in ran, f"{case}: the case never runs primitive {case.name!r} (it ran {sorted(ran)})"
    y = _call(case, arrays)
    if case.ref is not None:
        _close(y, case.ref(*arrays), case, "forward value and NumPy")
    u = rng.standard_normal(y.shape)
    # reverse mode against central differences, entry by entry for small inputs
    _, _, gs = _vjp(case, arrays, Tensor(u))
    grads = _grads_np(gs, arrays)
    if case.grad_ref is not None:
        for i, (g, want) in enumerate(zip(grads, case.grad_ref(u, *arrays))):
            _close(g, want, case, f"reverse-mode gradient of input {i} and the documented convention")
    for i, a in enumerate(arrays if case.grad_ref is None else ()):
        idxs = list(np.ndindex(a.shape))
        if len(idxs) > 24:
            idxs = [idxs[j] for j in rng.choice(len(idxs), 24, replace=False)]
        for idx in idxs:
            hi = [b.copy() for b in arrays]
            lo = [b.copy() for b in arrays]
            hi[i][idx] += EPS
            lo[i][idx] -= EPS
            num = (_inner(u, _call(case, hi)) - _inner(u, _call(case, lo))) / (2 * EPS)
            _close(grads[i][idx], num, case, f"reverse-mode gradient of input {i} at {idx} and finite differences")
    vs = [rng.standard_normal(a.shape) for a in arrays]
    if case.fwd:
        with level() as lv:
            duals = [make_dual(Tensor(a), Tensor(v), lv) for a, v in zip(arrays, vs)]
            out = case.fn(*duals)
            jv = np.asarray(tangent_of(out, lv).data, dtype=np.float64)
        _close(_inner(u, jv), sum(_inner(g, v) for g, v in zip(grads, vs)), case, "<u, J v> and <J^T u, v>")
        if case.grad_ref is None:
            hi = [a + EPS * v for a, v in zip(arrays, vs)]
            lo = [a - EPS * v for a, v in zip(arrays, vs)]
            _close(jv, (_call(case, hi) - _call(case, lo)) / (2 * EPS), case, "forward-mode J v and finite differences")
    if case.order2:
        ws = [rng.standard_normal(a.shape) for a in arrays]

        def s_of(arrs):
            _, _, g1 = _vjp(case, arrs, Tensor(u))
            return sum(_inner(g, w) for g, w in zip(_grads_np(g1, arrs), ws))

        xs, out, g1 = _vjp(case, arrays, Tensor(u), create_graph=True)
        terms = [_dot(g, w) for g, w in zip(g1, ws) if g is not None]
        terms = [t for t in terms if t is not None and t.requires_grad]
        if terms:
            s = terms[0]
            for t in terms[1:]:
                s = s + t
            h = _grads_np(grad_of([s], xs, allow_unused=True), arrays)
        else:
            h = [np.zeros_like(a) for a in arrays]
        hi = [a + EPS * v for a, v in zip(arrays, vs)]
        lo = [a - EPS * v for a, v in zip(arrays, vs)]
        num = 0.0 if case.order2_zero else (s_of(hi) - s_of(lo)) / (2 * EPS)
        _close(sum(_inner(hh, v) for hh, v in zip(h, vs)), num, case,
               "second-order (create_graph) directional derivative and finite differences")
    if case.f32:
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
