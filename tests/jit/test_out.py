"""cr.jit and ``out`` given positionally: the write into it is recorded like ``out=``."""

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize("body", [
    lambda x, buf: np.dot(x, x, buf),
    lambda x, buf: np.cumsum(x, 0, None, buf),
    lambda x, buf: np.clip(x, 0.5, 2.0, buf),
    lambda x, buf: np.concatenate([x[:1], x[1:]], 0, buf),
    lambda x, buf: x.cumsum(1, None, buf),
    lambda x, buf: x.dot(x, buf),
    lambda x, buf: np.take(x.ravel(), np.array([[3, 2], [1, 0]]), None, buf),
], ids=["dot", "cumsum", "clip", "concatenate", "method cumsum", "method dot", "take"])
def test_a_positional_out_is_a_recorded_write(body):
    # unseen, the write left the buffer a constant of the program: every replay returned the first call's values
    def f(x):
        buf = np.empty((2, 2))
        body(x, buf)
        return buf + 0

    j = cr.jit(f)
    for s in (1.0, 3.0, -2.0):
        x = np.array([[1.0, 2.0], [3.0, 4.0]]) * s
        np.testing.assert_array_equal(j(x), f(x))
    assert j.traces == 1


@pytest.mark.parametrize("call", [
    lambda y: np.nan_to_num(y, copy=False, neginf=-5.0),
    lambda y: np.nan_to_num(y, False, neginf=-5.0),
])
def test_nan_to_num_in_place_is_a_recorded_write(call):
    # with copy=False it writes into its argument and returns it: taken for "its input given back", nothing was
    # recorded, and replays left the -inf in place
    def f(x):
        y = x * 1
        call(y)
        return y * 1

    j = cr.jit(f)
    for _ in range(2):
        np.testing.assert_array_equal(j(np.array([-np.inf, 1.0])), [-5.0, 1.0])
    g = cr.jit(lambda x: np.nan_to_num(x * 1) + x)  # the copying one stays a plain call
    np.testing.assert_array_equal(g(np.array([np.nan, 1.0])), [np.nan, 2.0])
