"""Property-based checks (hypothesis) of the NaN-ignoring reductions and the order statistics: random shapes, axes,
keepdims and NaN positions, against NumPy's values and central differences."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr

FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
NAN_FUNCTIONS = ("nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod", "nanmedian")
ORDER_FUNCTIONS = ("median", "sort_last", "quantile", "percentile")


@st.composite
def arrays_and_axes(draw, nan=True):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    n = int(np.prod(shape))
    # distinct values spread well beyond the finite-difference step: no ties, no kinks
    values = np.random.default_rng(draw(st.integers(0, 2**16))).permutation(n) * 0.37 - 1.0
    x = values.reshape(shape)
    if nan:
        mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))).reshape(shape)
        x = np.where(mask, np.nan, x)
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True)
                          .map(tuple)))
    return x, axis, draw(st.booleans())


def _grad_check(f, x):
    # nan_to_num at the end: an all-NaN slice gives NaN, constant in x, so its derivative is 0 on both sides
    cr.gradcheck(lambda t: cr.nan_to_num(f(t)), (x,), second_order=False)


@FAST
@given(case=arrays_and_axes(), name=st.sampled_from(NAN_FUNCTIONS))
def test_nan_reductions_match_numpy_and_finite_differences(case, name):
    x, axis, keepdims = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = getattr(np, name)(x, axis=axis, keepdims=keepdims)

    def f(t):
        return getattr(cr, name)(t, axis=axis, keepdims=keepdims)

    got = f(cr.tensor(x))
    assert got.shape == np.shape(ref) and np.allclose(got.data, ref, equal_nan=True)
    _grad_check(f, x)
    t = cr.tensor(x, requires_grad=True)
    cr.nansum(f(t)).backward()
    assert np.all(t.grad.data[np.isnan(x)] == 0) and not np.isnan(t.grad.data).any()


@FAST
@given(case=arrays_and_axes(nan=False), name=st.sampled_from(ORDER_FUNCTIONS), q=st.floats(0, 1))
def test_order_statistics_match_numpy_and_finite_differences(case, name, q):
    x, axis, keepdims = case
    if name == "sort_last":
        ours, ref = (lambda t: cr.sort(t)), np.sort(x)
    elif name == "median":
        ours, ref = (lambda t: cr.median(t, axis=axis, keepdims=keepdims)), np.median(x, axis=axis, keepdims=keepdims)
    else:
        scale = 100 if name == "percentile" else 1
        ours = lambda t: getattr(cr, name)(t, q * scale, axis=axis, keepdims=keepdims)  # noqa: E731
        ref = getattr(np, name)(x, q * scale, axis=axis, keepdims=keepdims)
    got = ours(cr.tensor(x))
    assert got.shape == np.shape(ref) and np.allclose(got.data, ref)
    _grad_check(ours, x)
