"""jvp: true forward mode (dual numbers), pytrees, types, dtypes, errors, higher order."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import jvp


def test_closed_form():
    out, t = jvp(lambda x: cr.sin(x) * cr.exp(x), (0.7,), (1.0,))
    assert np.isclose(out, math.sin(0.7) * math.exp(0.7))
    assert np.isclose(t, math.exp(0.7) * (math.sin(0.7) + math.cos(0.7)))


def test_directional_derivative_matches_finite_differences():
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: cr.tanh(x) * x.sum() + cr.softmax(x)
    _, t = jvp(f, (x,), (v,))
    eps = 1e-6
    num = (f(cr.tensor(x + eps * v)).data - f(cr.tensor(x - eps * v)).data) / (2 * eps)
    assert np.allclose(t, num, atol=1e-8)


def test_forward_over_forward_to_fourth_order():
    def d(f):
        return lambda x: jvp(f, (x,), (1.0,))[1]

    f = lambda x: x ** 5
    assert float(d(d(d(d(f))))(2.0)) == 120.0 * 2.0


def test_pytrees_and_several_primals():
    def f(p, x):
        return {"y": p["a"] * x, "z": [p["b"] + x.sum()]}

    p = {"a": np.array([1.0, 2.0]), "b": 3.0}
    out, t = jvp(f, (p, np.array([1.0, 1.0])), ({"a": np.array([1.0, 0.0]), "b": 1.0}, np.array([0.0, 2.0])))
    assert np.allclose(out["y"], [1.0, 2.0]) and float(out["z"][0]) == 5.0
    assert np.allclose(t["y"], [1.0, 4.0]) and float(t["z"][0]) == 3.0


def test_types_and_dtypes():
    out, t = jvp(lambda x: x * x, (cr.tensor(np.ones(2, np.float32)),), (np.ones(2, np.float32),))
    assert isinstance(out, cr.Tensor) and isinstance(t, cr.Tensor) and t.dtype == np.float32
    out, t = jvp(lambda x: x * x, (np.ones(2, np.float32),), (np.ones(2),))  # tangent cast to the primal's dtype
    assert isinstance(t, np.ndarray) and t.dtype == np.float32


def test_constant_output_has_zero_tangent():
    _, t = jvp(lambda x: np.ones(3), (1.0,), (1.0,))
    assert np.array_equal(t, np.zeros(3))
    out, t = jvp(lambda x: 3.0, (1.0,), (1.0,))  # a Python float gives a 0-d array, as an input would
    assert type(out) is np.ndarray and out.shape == () and float(out) == 3.0 and float(t) == 0.0


class _Counts(dict):
    """``nodes``: Nodes made since the fixture started; every Node takes the next sequence number."""

    def __init__(self):
        from chainrule.core import node

        super().__init__(sweeps=0)
        self.sequence = node._sequence
        self.start = next(self.sequence)
        self.reads = 0

    def __getitem__(self, key):
        if key == "nodes":
            self.reads += 1  # each read takes a number too (sequence numbers need only grow)
            return next(self.sequence) - self.start - self.reads
        return super().__getitem__(key)

    def __eq__(self, other):
        return {"nodes": self["nodes"], "sweeps": self["sweeps"]} == other


@pytest.fixture
def tape_counts(monkeypatch):
    """Count the Nodes created (by the node sequence counter) and the backward sweeps run while a test runs."""
    import chainrule.core.backward as backward
    import chainrule.transforms._util as util

    counts = _Counts()
    sweep = backward.sweep

    def counted_sweep(*args, **kwargs):
        counts["sweeps"] += 1
        return sweep(*args, **kwargs)

    monkeypatch.setattr(backward, "sweep", counted_sweep)
    monkeypatch.setattr(util, "sweep", counted_sweep)
    return counts


@pytest.mark.parametrize("tensors", [False, True])
def test_jvp_creates_no_node_and_runs_no_backward_sweep(tape_counts, tensors):
    wrap = cr.tensor if tensors else np.asarray
    f = lambda x: (cr.tanh(x) * cr.sin(x) @ cr.exp(x[::-1])) + cr.softmax(x).sum()
    x, v = wrap(np.array([0.1, 0.5, -0.3])), wrap(np.ones(3))
    out, t = jvp(f, (x,), (v,))
    assert tape_counts == {"nodes": 0, "sweeps": 0}  # true forward mode: no tape, no double-vjp trick
    if tensors:
        assert not out.requires_grad and not t.requires_grad and x.grad is None
    # the counter does count: one grad records nodes and runs one sweep
    cr.grad(lambda x: f(x))(np.array([0.1, 0.5, -0.3]))
    assert tape_counts["nodes"] > 0 and tape_counts["sweeps"] == 1


def test_jacfwd_creates_no_node_and_runs_no_backward_sweep(tape_counts):
    cr.jacfwd(lambda x: cr.tanh(x) * x.sum())(np.array([0.1, 0.5]))
    assert tape_counts == {"nodes": 0, "sweeps": 0}


def test_has_aux():
    _, t, aux = jvp(lambda x: (x * x, x + 1), (2.0,), (1.0,), has_aux=True)
    assert float(t) == 4.0 and float(aux) == 3.0


def test_errors():
    with pytest.raises(TypeError, match="tuples"):
        jvp(lambda x: x, 1.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        jvp(lambda x: x, (np.ones(2),), (np.ones(3),))
    with pytest.raises(ValueError, match="structure"):
        jvp(lambda x: x, ((1.0, 2.0),), (1.0,))
    with pytest.raises(TypeError, match="floating-point"):
        jvp(lambda x: x, (np.arange(3),), (np.ones(3),))
