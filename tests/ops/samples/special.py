"""Sample cases of the special primitives, read by tests/ops/test_special.py, the vmap tests and the coverage test."""

from __future__ import annotations

import numpy as np

from chainrule.ops.special import log_softmax, softmax
from tests.ops.harness import Case

rng = np.random.default_rng(1)


def np_log_softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    z = x - m
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


BIG = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -999.5]])
SAMPLES = [
    (rng.standard_normal(5), {}, "vector"),
    (rng.standard_normal((3, 4)), {}, "rows"),
    (rng.standard_normal((3, 4)), {"axis": 0}, "axis 0"),
    (rng.standard_normal((3, 4)), {"axis": -2}, "axis -2"),
    (rng.standard_normal((3, 4)), {"axis": None}, "axis None"),
    (rng.standard_normal((2, 3, 4)), {"axis": (0, 2)}, "axis tuple"),
    (rng.standard_normal((2, 3, 4)), {"axis": 1}, "3-D middle axis"),
    (np.array(0.7), {}, "0-d"),
    (rng.standard_normal((4, 1)), {}, "one class"),
    (BIG, {}, "±1000"),
    (np.array([2.0, 2.0, 2.0, -1.0]), {}, "ties"),
]

CASES = []
for x, kw, label in SAMPLES:
    CASES.append(Case("softmax", lambda x, kw=kw: softmax(x, **kw), (x,), lambda x, kw=kw: np_softmax(x, **kw), label))
    CASES.append(Case("log_softmax", lambda x, kw=kw: log_softmax(x, **kw), (x,),
                      lambda x, kw=kw: np_log_softmax(x, **kw), label))
# composed as in a classifier: gradient of the picked log-probabilities, to second order
CASES.append(Case("log_softmax", lambda x: log_softmax(x * x, axis=1) * x, (rng.standard_normal((2, 3)),),
                  lambda x: np_log_softmax(x * x, axis=1) * x, "composed"))
CASES.append(Case("softmax", lambda x: softmax(x, axis=0) * softmax(x, axis=1), (rng.standard_normal((3, 3)),),
                  lambda x: np_softmax(x, axis=0) * np_softmax(x, axis=1), "two axes"))
