"""cr.jit and NumPy's global generator: in-place draws are drawn again on each replay."""

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize("make", [lambda x: x * 1, lambda x: np.arange(5.0)], ids=["traced", "constant"])
def test_np_random_shuffle_shuffles_again_on_each_replay(make):
    # np.random.shuffle swaps entries through __getitem__/__setitem__ on a traced array: recorded as fixed
    # swaps, every replay applied the trace's one permutation
    def f(x):
        y = make(x)
        np.random.shuffle(y)
        return y * 2

    j = cr.jit(f)
    x = np.arange(5.0)
    np.random.seed(3)
    got = [j(x) for _ in range(6)]
    np.random.seed(3)
    want = [f(x) for _ in range(6)]
    np.testing.assert_array_equal(got, want)
    assert len({tuple(g) for g in got}) > 1 and j.traces == 1
