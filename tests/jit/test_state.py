"""cr.jit and the state it loads: a parameter rebound to another dtype or shape between calls."""

import numpy as np
import pytest

import chainrule as cr


def test_a_parameter_rebound_to_another_dtype_or_shape_traces_again():
    # The program was made for the loaded arrays' shapes and dtypes: replayed on a float32 parameter it computed
    # in float64 (its buffers'), silently; on another shape it failed inside NumPy.
    w = cr.tensor(np.ones((3, 3)), requires_grad=True)

    def f(x):
        w.grad = None
        loss = ((cr.tanh(x @ w) * 2 + 1) ** 2).sum()
        loss.backward()
        return loss

    j = cr.jit(f)
    x = cr.tensor(np.full((2, 3), 0.5, dtype=np.float32))
    j(x), j(x)
    assert j.traces == 1
    for data in (np.full((3, 3), 0.5, dtype=np.float32), np.full((3, 3), 2.0)):
        w.data = data
        want = f(x)
        want_grad = w.grad.data
        for _ in range(2):
            got = j(x)
            assert got.data.dtype == want.data.dtype and w.grad.data.dtype == want_grad.dtype
            np.testing.assert_array_equal(got.data, want.data)
            np.testing.assert_array_equal(w.grad.data, want_grad)
    assert j.traces == 2  # float64 again: the first program
    w.data = np.ones((3, 4))
    with pytest.raises(ValueError) as eager:
        f(x)
    with pytest.raises(ValueError) as jitted:
        j(x)
    assert str(jitted.value) == str(eager.value)


def test_a_grad_read_after_a_host_call_is_no_guard_on_the_calls_start():
    # Read after opt.step(), w.grad is the one this very trace stored: guarding its presence at the start of the
    # call (where it is None) failed on every call, traced again each time and kept every program.
    def make():
        w = cr.tensor(np.ones(3), requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.1)

        def step(x):
            loss = (x * w).sum()
            loss.backward()
            opt.step()
            size = (w.grad * w.grad).sum()  # logged after the step
            w.grad = None
            return loss, size

        return w, step

    w1, eager = make()
    w2, jitted = make()
    jitted = cr.jit(jitted)
    for i in range(5):
        x = np.full(3, float(i + 1))
        for a, b in zip(eager(x), jitted(x)):
            np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(w1.data, w2.data)
        assert w2.grad is None
    assert jitted.traces == 1 and len(jitted.programs()) == 1


def test_the_programs_of_one_signature_are_bounded_too():
    # State rebound to a new shape on every call traces a program per call under the same signature: those are
    # bounded like the signatures (max_cache), the least recently traced dropped first.
    w = cr.tensor(np.ones(1))
    j = cr.jit(lambda x: x + w.data.sum(), max_cache=4, warn_after=10**6)
    for n in range(1, 21):
        w.data = np.ones(n)
        np.testing.assert_array_equal(j(np.zeros(2)), [float(n)] * 2)
    assert j.traces == 20 and len(j.programs()) == 4
    w.data = np.ones(20)
    j(np.zeros(2))
    assert j.traces == 20  # the newest is kept
