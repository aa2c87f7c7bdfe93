"""NaN-ignoring reductions, average, ptp, cumprod, the extra elementwise functions and the signal functions:
samples, plus conventions by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from tests.ops.harness import check_case
from tests.ops.samples import elementwise_extra, nan_reduce, signal

CASES = nan_reduce.CASES + elementwise_extra.CASES + signal.CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def grad(f, *xs):
    xs = [cr.tensor(x, requires_grad=True) for x in xs]
    f(*xs).backward()
    return [x.grad.data for x in xs]


def test_all_nan_slices_give_nan_and_no_nan_gradient():
    x = [[1.0, np.nan], [np.nan, np.nan]]
    for name in ("nanmean", "nanvar", "nanstd", "nanmax", "nanmin"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = getattr(np, name)(x, axis=1)
        f = getattr(cr, name)
        assert np.allclose(f(cr.tensor(x), axis=1).data, ref, equal_nan=True), name
        (g,) = grad(lambda t, f=f: cr.nansum(f(t, axis=1)), x)
        assert not np.isnan(g).any() and np.all(g[1] == 0), name


def test_sinc_derivatives_at_zero_are_the_limits():
    x = cr.tensor(0.0)
    assert cr.grad(cr.sinc)(x).item() == 0.0
    assert np.isclose(cr.grad(cr.grad(cr.sinc))(x).item(), -np.pi ** 2 / 3)


def test_nan_to_num_default_replacements():
    x = cr.tensor([np.nan, np.inf, -np.inf, 2.0], requires_grad=True)
    y = cr.nan_to_num(x)
    assert np.array_equal(y.data, np.nan_to_num(x.data))
    y.sum().backward()
    assert np.array_equal(x.grad.data, [0, 0, 0, 1])


def test_interp_slope_at_a_knot_is_the_right_segment():
    (g,) = grad(lambda x: cr.interp(x, [0.0, 1.0, 3.0], [0.0, 2.0, 3.0]).sum(), [1.0])
    assert np.allclose(g, [0.5])
    (g,) = grad(lambda x: cr.interp(x, [0.0, 1.0, 3.0], [0.0, 2.0, 3.0]).sum(), [3.0, 5.0, -1.0])
    assert np.allclose(g, [0.5, 0.0, 0.0])


def test_average_refuses_zero_weights_and_mismatched_shapes():
    with pytest.raises(ZeroDivisionError):
        cr.average(cr.tensor([1.0, 2.0]), weights=cr.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="axis"):
        cr.average(cr.tensor([[1.0, 2.0]]), weights=[1.0, 1.0])


def test_correlate_conjugates_a_complex_second_operand():
    # as NumPy: c_k = Σ a_{n+k} conj(v_n) (gradients: tests/ops/samples/complex_numbers.py)
    a, v = np.array([1.0 + 1j, 2.0, -1j]), np.array([1.0, 2j])
    for mode in ("valid", "same", "full"):
        np.testing.assert_allclose(cr.correlate(cr.tensor(a), cr.tensor(v), mode).data, np.correlate(a, v, mode))
        np.testing.assert_allclose(cr.correlate(cr.tensor(v), cr.tensor(a), mode).data, np.correlate(v, a, mode))


def test_numpy_dispatch_records():
    x = cr.tensor([[0.5, np.nan, 2.0], [1.0, 3.0, -1.0]], requires_grad=True)
    for f in (np.nansum, np.nanmean, np.nanvar, np.nanstd, np.nanmax, np.nanmin, np.nanprod, np.nancumsum,
              np.nancumprod, np.cumprod, np.ptp, np.average, np.sinc, np.nan_to_num, np.radians, np.degrees,
              np.deg2rad, np.rad2deg, lambda t: np.fmax(t, 1.0), lambda t: np.fmin(t, t),
              lambda t: np.logaddexp2(t[1], 0.0), lambda t: np.convolve(t[1], t[1]), lambda t: np.correlate(t[1], t[1]),
              lambda t: np.polyval(t[1], t), lambda t: np.interp(t, [0.0, 1.0], [2.0, 5.0])):
        y = f(x)
        assert isinstance(y, cr.Tensor) and y.requires_grad


def test_tensor_methods():
    x = cr.tensor([[2.0, np.nan], [0.5, 4.0]], requires_grad=True)
    assert np.allclose(x.cumprod(axis=1).data, np.cumprod(x.data, axis=1), equal_nan=True)
    assert x.nansum().item() == 6.5 and x.nanmean().item() == 6.5 / 3
    assert np.allclose(x.nanquantile(0.5, axis=0).data, [1.25, 4.0])
    assert np.allclose(x.nan_to_num().data, [[2.0, 0.0], [0.5, 4.0]])
    assert np.allclose(x.fmax(1.0).data, [[2.0, 1.0], [1.0, 4.0]])
    y = cr.tensor([0.0, 90.0])
    assert np.allclose(y.deg2rad().rad2deg().data, y.data) and y.sinc().data[0] == 1.0
