"""Replay of every sample of the op table, on other values than the trace saw: forward and gradients equal eager.

A value that the trace turned into a constant (a stale copy of a traced array) shows up here, because the
replay runs on inputs the trace never saw.
"""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.tensor import Tensor
from tests.ops.samples import CASES


def _step(case):
    def run(*arrays):
        xs = [Tensor(a, requires_grad=True) for a in arrays]
        out = case.fn(*xs)
        if out.requires_grad:  # a comparison, an index: no gradient, the forward value is checked alone
            u = np.cos(np.arange(out.data.size, dtype=out.data.dtype)).reshape(out.shape) + 0.5
            out.backward(u)
        return out, [x.grad for x in xs]

    return run


def _other(arrays, seed):
    """The same shapes, other values: each entry moved by up to 1% (signs and domains kept)."""
    rng = np.random.default_rng(seed)
    return [np.asarray(a * (1 + 0.01 * rng.uniform(-1, 1, a.shape))) for a in arrays]


def _eager(case, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _step(case)(*[a.copy() for a in arrays])


def _same(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    assert a.dtype == b.dtype and a.shape == b.shape, what
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-300, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_replay_equals_eager_on_new_values(case):
    arrays = [np.array(a, dtype=np.float64) for a in case.args]
    f = cr.jit(_step(case))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f(*[a.copy() for a in arrays])  # the trace
        for seed in (1, 2):
            new = _other(arrays, seed)
            out, grads = f(*[a.copy() for a in new])
            ref_out, ref_grads = _eager(case, new)
            _same(out, ref_out, f"{case}: forward")
            for i, (g, r) in enumerate(zip(grads, ref_grads)):
                _same(g, r, f"{case}: gradient of input {i}")
    assert f.traces == 1
