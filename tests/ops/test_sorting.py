"""Order statistics against NumPy and finite differences (samples), plus their conventions by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from tests.ops.harness import check_case
from tests.ops.samples.sorting import CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def grad(f, x):
    x = cr.tensor(x, requires_grad=True)
    f(x).backward()
    return x.grad.data


def test_sort_ties_follow_the_stable_order():
    # the sorted output [1, 2, 2]: position 1 reads x[0], position 2 reads x[2]
    g = grad(lambda x: (cr.sort(x) * cr.tensor([1.0, 10.0, 100.0])).sum(), [2.0, 1.0, 2.0])
    assert np.allclose(g, [10.0, 1.0, 100.0])


def test_median_of_an_even_count_shares_the_gradient():
    assert np.allclose(grad(cr.median, [4.0, 1.0, 3.0, 2.0]), [0, 0, 0.5, 0.5])
    assert np.allclose(grad(cr.median, [2.0, 2.0, 2.0, 2.0]), [0, 0.5, 0.5, 0])


def test_nan_slices_give_nan_with_zero_gradient():
    x = [[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]]
    y = cr.median(cr.tensor(x), axis=1)
    assert np.isnan(y.data).all() and np.isnan(cr.median(cr.tensor(x[0])).item())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanmedian(x, axis=1)
    got = cr.nanmedian(cr.tensor(x), axis=1)
    assert np.allclose(got.data, ref, equal_nan=True)
    assert np.allclose(grad(lambda t: cr.nansum(cr.nanmedian(t, axis=1)), x), [[0.5, 0, 0.5], [0, 0, 0]])
    assert np.allclose(grad(lambda t: cr.nansum(cr.median(t, axis=1)), x), 0)


def test_quantile_is_differentiable_in_q():
    x = np.array([[0.0, 3.0, 1.0], [2.0, -1.0, 5.0]])
    for f, q in ((cr.quantile, [0.3, 0.8]), (cr.percentile, [12.0, 71.0]), (cr.nanquantile, [0.1, 0.45])):
        cr.gradcheck(lambda a, q, f=f: f(a, q, axis=1), (x, np.array(q)))
        cr.gradcheck(lambda a, q, f=f: f(a, q, axis=1), (x, np.array(q)), forward=True)
    # where q(n - 1) is whole, the slope above it; at q = 1, the last segment's
    slope = cr.grad(lambda q: cr.quantile(cr.tensor([0.0, 1.0, 3.0]), q))
    assert slope(cr.tensor(0.5)).item() == 4.0 and slope(cr.tensor(1.0)).item() == 4.0
    assert slope(cr.tensor(0.0)).item() == 2.0
    assert cr.grad(lambda q: cr.quantile(cr.tensor([0.0, 1.0, 3.0]), q, method="lower"))(cr.tensor(0.7)).item() == 0


def test_quantile_refuses_what_it_cannot_do():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="q cannot be batched"):
        cr.vmap(lambda q: cr.quantile(x, q))(cr.tensor([0.2, 0.5]))
    with pytest.raises(NotImplementedError, match="weibull"):
        cr.quantile(x, 0.5, method="weibull")
    with pytest.raises(ValueError, match="range"):
        cr.quantile(x, 1.5)


def test_numpy_dispatch_records():
    x = cr.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    for f in (np.sort, np.median, lambda t: np.quantile(t, 0.3), lambda t: np.percentile(t, 40),
              lambda t: np.partition(t, 1), np.nanmedian, lambda t: np.nanquantile(t, 0.2)):
        y = f(x)
        assert isinstance(y, cr.Tensor) and y.requires_grad


def test_vmap_and_forward_mode():
    xs = np.random.default_rng(0).standard_normal((3, 5))
    got = cr.vmap(lambda x: cr.quantile(x, [0.25, 0.5]))(cr.tensor(xs))
    assert np.allclose(got.data, np.quantile(xs, [0.25, 0.5], axis=1).T)
    j = cr.jacfwd(cr.median)(cr.tensor(xs[0]))
    assert np.allclose(j.data, cr.jacrev(cr.median)(cr.tensor(xs[0])).data)
