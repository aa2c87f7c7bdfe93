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


@pytest.mark.parametrize("draw", [
    lambda: np.random.laplace(size=3),
    lambda: np.random.standard_exponential(3),
    lambda: np.random.lognormal(size=3),
    lambda: np.random.multivariate_normal(np.zeros(3), np.eye(3)),
    lambda: np.random.gumbel(size=3),
    lambda: np.random.sample(3),
    lambda: np.random.ranf(3),
    lambda: np.random.standard_t(5, size=3),
    lambda: np.random.dirichlet(np.ones(3)),
])
def test_every_draw_of_numpys_global_generator_is_drawn_again(draw):
    # only some were: the others were constants of the program, the same "noise" on every call
    def f(x):
        return x + draw()

    j = cr.jit(f)
    x = np.zeros(3)
    np.random.seed(4)
    got = [j(x) for _ in range(3)]
    np.random.seed(4)
    np.testing.assert_array_equal(got, [f(x) for _ in range(3)])
