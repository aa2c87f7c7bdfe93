"""optim/optimizer.py's in-place helpers: the blocked update gives exactly ``theta -= lr * d``."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim.optimizer import _BLOCK, sub_scaled_

rng = np.random.default_rng(0)


@pytest.mark.parametrize("n", [1, 7, _BLOCK - 1, _BLOCK, _BLOCK + 1, 2 * _BLOCK, 3 * _BLOCK + 5])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64])
def test_sub_scaled_is_bit_identical(n, dtype):
    theta = rng.standard_normal(n).astype(dtype)
    d = rng.standard_normal(n).astype(dtype)
    want = theta.copy()
    want -= 0.0123 * d
    sub_scaled_(theta, d, 0.0123)
    assert theta.dtype == np.dtype(dtype)
    assert np.array_equal(theta.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("layout", ["2d", "fortran", "strided", "aliased", "shifted"])
def test_sub_scaled_layouts(layout):
    shape = (300, 500)  # over one block, so the blocked path is taken where the layout allows it
    theta = rng.standard_normal(shape).astype(np.float32)
    d = rng.standard_normal(shape).astype(np.float32)
    if layout == "fortran":
        theta, d = np.asfortranarray(theta), np.asfortranarray(d)
    elif layout == "strided":
        theta, d = rng.standard_normal((300, 1000)).astype(np.float32)[:, ::2], d[:, ::-1]
    elif layout == "aliased":
        d = theta
    elif layout == "shifted":  # d overlaps theta one row earlier: the result must be as if d were read first
        both = rng.standard_normal((301, 500)).astype(np.float32)
        theta, d = both[1:], both[:-1]
    want = theta.copy()
    want -= 0.5 * d.copy()
    sub_scaled_(theta, d, 0.5)
    assert np.array_equal(theta, want)


def test_sgd_step_matches_the_plain_formula_in_float32():
    w0 = rng.standard_normal((400, 300)).astype(np.float32)  # over one block
    g = rng.standard_normal((400, 300)).astype(np.float32)
    p = cr.tensor(w0.copy(), requires_grad=True)
    p.grad = cr.tensor(g)
    optim.SGD([p], lr=0.01).step()
    assert p.data.dtype == np.float32
    assert np.array_equal(p.data, w0 - np.float32(0.01) * g)
