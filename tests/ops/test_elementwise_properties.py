"""Property-based checks (hypothesis) of the elementwise and reduction families: random broadcasting shape pairs,
axes and keepdims, against NumPy's values, central differences (reverse and forward mode) and each other
(⟨u, J v⟩ = ⟨Jᵀu, v⟩)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chainrule as cr

# every function is a pytest parameter (each one checked on every run), hypothesis draws its shapes and axes
FAST = settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# name: the interval its inputs are drawn from (inside the domain, away from kinks and poles)
UNARY = {
    "exp": (-2, 2), "log": (0.3, 3), "sqrt": (0.3, 3), "sin": (-3, 3), "cos": (-3, 3), "tanh": (-2, 2),
    "arctan": (-3, 3), "arcsin": (-0.8, 0.8), "square": (-2, 2), "reciprocal": (0.4, 2), "expm1": (-2, 2),
    "log1p": (-0.5, 2), "sinh": (-2, 2), "cosh": (-2, 2), "arcsinh": (-2, 2), "cbrt": (0.3, 2),
    "abs": (0.2, 2), "negative": (-2, 2), "sigmoid": (-3, 3),
}
# name: (interval of x, interval of y)
BINARY = {
    "add": ((-2, 2), (-2, 2)), "subtract": ((-2, 2), (-2, 2)), "multiply": ((-2, 2), (-2, 2)),
    "divide": ((-2, 2), (0.5, 2)), "power": ((0.5, 2), (-1.5, 1.5)), "arctan2": ((-2, 2), (0.3, 2)),
    "hypot": ((0.3, 2), (-2, -0.3)), "logaddexp": ((-2, 2), (-2, 2)),
    "maximum": ((-2, -0.1), (0.1, 2)), "minimum": ((-2, -0.1), (0.1, 2)),  # apart: no tie within the step
}
# reductions: (the NumPy reference, an interval); max and min draw distinct values (no tie)
REDUCTIONS = {
    "sum": (np.sum, (-2, 2)), "mean": (np.mean, (-2, 2)), "prod": (np.prod, (0.5, 1.5)), "var": (np.var, (-2, 2)),
    "std": (np.std, (-2, 2)), "max": (np.max, None), "min": (np.min, None), "amax": (np.amax, None),
    "logsumexp": (lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)), (-2, 2)),
}


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np(name):
    return _sigmoid if name == "sigmoid" else getattr(np, name)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: a common shape, each operand keeping a suffix of it, some sizes 1."""
    shape = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    out = []
    for _ in range(2):
        keep = draw(st.integers(0, len(shape)))
        ones = draw(st.lists(st.booleans(), min_size=keep, max_size=keep))
        out.append(tuple(1 if one else n for one, n in zip(ones, shape[len(shape) - keep:])))
    return tuple(out)


def _draw(rng, shape, interval):
    lo, hi = interval
    return rng.uniform(lo, hi, shape)


@st.composite
def array_and_axes(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                          st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    return shape, axis, draw(st.booleans())


def _forward_matches_reverse(f, xs, rng):
    # ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ along random directions of every input at once
    vs = tuple(rng.standard_normal(np.shape(x)) for x in xs)
    y, jv = cr.jvp(f, tuple(cr.tensor(x) for x in xs), tuple(cr.tensor(v) for v in vs))
    u = rng.standard_normal(np.shape(y.data))
    _, vjp_fn = cr.vjp(f, *(cr.tensor(x) for x in xs))
    jtu = vjp_fn(cr.tensor(u))
    left = np.sum(u * np.asarray(jv.data))
    right = sum(np.sum(np.asarray(g.data) * v) for g, v in zip(jtu, vs))
    assert np.isclose(left, right, rtol=1e-9, atol=1e-12), (left, right)


@pytest.mark.parametrize("name", sorted(UNARY))
@FAST
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple), seed=st.integers(0, 2**16))
def test_unary_matches_numpy_and_finite_differences(shape, name, seed):
    rng = np.random.default_rng(seed)
    x = _draw(rng, shape, UNARY[name])
    f = getattr(cr, name)
    got = f(cr.tensor(x))
    ref = _np(name)(x)
    assert got.shape == np.shape(ref) and np.allclose(got.data, ref, rtol=1e-12, atol=1e-12)
    cr.gradcheck(f, (x,))
    _forward_matches_reverse(f, (x,), rng)


@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(shapes=broadcast_pair(), seed=st.integers(0, 2**16))
def test_binary_broadcasting_matches_numpy_and_finite_differences(shapes, name, seed):
    rng = np.random.default_rng(seed)
    (sx, sy), (ix, iy) = shapes, BINARY[name]
    x, y = _draw(rng, sx, ix), _draw(rng, sy, iy)
    f = getattr(cr, name)
    got = f(cr.tensor(x), cr.tensor(y))
    ref = getattr(np, name)(x, y)
    assert got.shape == np.shape(ref) and np.allclose(got.data, ref, rtol=1e-12, atol=1e-12)
    # reverse sums the cotangent over the broadcast axes: each gradient has its operand's shape
    gx, gy = cr.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(x, y)
    assert np.shape(gx.data) == sx and np.shape(gy.data) == sy
    cr.gradcheck(f, (x, y))
    _forward_matches_reverse(f, (x, y), rng)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@FAST
@given(case=array_and_axes(), seed=st.integers(0, 2**16))
def test_reductions_match_numpy_and_finite_differences(case, name, seed):
    shape, axis, keepdims = case
    rng = np.random.default_rng(seed)
    ref_fn, interval = REDUCTIONS[name]
    n = int(np.prod(shape))
    # distinct values, spread well beyond the finite-difference step, where ties would split the gradient
    x = (rng.permutation(n) * 0.37 - 1.0).reshape(shape) if interval is None else _draw(rng, shape, interval)

    def f(t):
        return getattr(cr, name)(t, axis=axis, keepdims=keepdims)

    got = f(cr.tensor(x))
    ref = ref_fn(x, axis=axis, keepdims=keepdims)
    assert got.shape == np.shape(ref) and np.allclose(got.data, ref, rtol=1e-12, atol=1e-12)
    # std of a single entry is 0, a kink (|x| at 0) where its documented gradient 0 is pinned elsewhere
    assume(name != "std" or np.all(np.asarray(ref) > 0))
    cr.gradcheck(f, (x,))
    _forward_matches_reverse(f, (x,), rng)
