"""nn.init: in-place initialisers keep the dtype and are noted as writes, so a stale graph refuses backward."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import init

INITS = [
    ("uniform_", lambda w: init.uniform_(w, -1.0, 1.0)),
    ("normal_", lambda w: init.normal_(w)),
    ("constant_", lambda w: init.constant_(w, 0.5)),
    ("zeros_", init.zeros_),
    ("ones_", init.ones_),
    ("xavier_uniform_", init.xavier_uniform_),
    ("xavier_normal_", init.xavier_normal_),
    ("kaiming_uniform_", lambda w: init.kaiming_uniform_(w, a=math.sqrt(5))),
    ("kaiming_normal_", init.kaiming_normal_),
]


@pytest.mark.parametrize("name,fill", INITS, ids=[n for n, _ in INITS])
def test_initialising_a_weight_after_recording_refuses_backward(name, fill):
    m = nn.Linear(3, 2, bias=False)
    x = cr.tensor(np.ones((1, 3), np.float32), requires_grad=True)
    loss = m(x).sum()
    assert fill(m.weight) is m.weight
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()  # it would use the new weights (PyTorch refuses too)
    m(x).sum().backward()  # a graph recorded after the write is fine
    np.testing.assert_allclose(x.grad.data, m.weight.data.sum(0, keepdims=True), rtol=1e-6)


@pytest.mark.parametrize("name,fill", INITS, ids=[n for n, _ in INITS])
def test_initialisers_write_in_place_and_keep_the_dtype(name, fill):
    w = nn.Parameter(np.zeros((4, 5), np.float32))
    arr = w.data
    fill(w)
    assert w.data is arr and w.dtype == np.float32 and w.requires_grad
    plain = np.zeros((4, 5), np.float32)
    assert fill(plain) is plain and plain.dtype == np.float32


def test_initialising_a_plain_array_the_tape_saved_refuses_backward():
    w = np.ones((2, 3))
    x = cr.tensor(np.ones(3), requires_grad=True)
    loss = cr.matmul(w, x).sum()  # the tape saves w itself
    init.zeros_(w)
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_fans_and_errors():
    assert init.fan_in(np.zeros((4, 3, 2, 2))) == 12
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(np.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(np.zeros((2, 2)), mode="fan")
    with pytest.raises(ValueError, match="unsupported"):
        init.calculate_gain("swish")
