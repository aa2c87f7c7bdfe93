"""Sample cases for the primitives chainrule.nn declares (linear, im2col/col2im, max-pool, fused losses).

Each Case runs the shared harness: forward against a NumPy reference, reverse
mode against central differences, forward mode against reverse, second order
(create_graph) against differences of gradients, and float32 in → float32 out.
"""

import numpy as np
import pytest

from chainrule.nn.functional import pooling as P
from tests.ops.harness import check_case
from tests.ops.samples.nn import CASES, _pool_kw


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def test_scatter_routes_ties_to_the_first_maximum():
    # all-equal windows (as after a ReLU) send the whole gradient to the window's top-left entry
    x = np.zeros((1, 1, 4, 4))
    kw = _pool_kw(2, 2, 0)
    out = P._max_pool(x, **kw)
    g = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    gx = P._scatter(g, x, out, **kw)
    expect = np.zeros((4, 4))
    expect[::2, ::2] = g[0, 0]
    np.testing.assert_array_equal(gx[0, 0], expect)
    # a tie inside one window: the first in row-major order wins
    x = np.array([[[[1.0, 5.0], [5.0, 0.0]]]])
    gx = P._scatter(np.ones((1, 1, 1, 1)), x, P._max_pool(x, **kw), **kw)
    np.testing.assert_array_equal(gx[0, 0], [[0.0, 1.0], [0.0, 0.0]])
