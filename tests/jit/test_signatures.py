"""cr.jit's signature and outputs: arguments passed twice, unhashable static arguments, what may be returned."""

import numpy as np
import pytest

import chainrule as cr


def test_an_argument_passed_twice_is_another_signature():
    # Traced with f(x, x), the program stores one gradient into the one Tensor; replayed for f(x, y) it would
    # give y the sum of both and x none (and the other way round): aliasing is part of the signature.
    def f(a, b):
        loss = (a * b).sum()
        loss.backward()
        return loss

    for first, second in (("same", "distinct"), ("distinct", "same")):
        j = cr.jit(f)
        for kind in (first, second):
            x = cr.tensor([1.0, 2.0], requires_grad=True)
            y = cr.tensor([3.0, 4.0], requires_grad=True)
            if kind == "same":
                j(x, x)
                np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
            else:
                j(x, y)
                np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
                np.testing.assert_array_equal(y.grad.data, [1.0, 2.0])
        assert j.traces == 2
    g = cr.jit(lambda a, b: a + b)
    one = np.ones(3)
    g(one, one), g(one, np.ones(3)), g(one, one)
    assert g.traces == 2


def test_an_unhashable_static_argument_freed_and_replaced_is_never_mistaken_for_it():
    # Keyed by id alone, a new object at the address of a freed one replayed the old one's values.
    class Config:
        __hash__ = None

        def __init__(self, scale):
            self.scale = scale

    f = cr.jit(lambda x, c: x * c.scale, warn_after=10**6)
    x = np.ones(2)
    for s in range(20):
        c = Config(float(s))
        np.testing.assert_array_equal(f(x, c), [float(s)] * 2)
        del c


@pytest.mark.parametrize("make", [
    lambda y: __import__("types").SimpleNamespace(y=y),
    lambda y: __import__("collections").OrderedDict(y=y),
    lambda y: {y.shape[0]: [object()]},
])
def test_an_output_that_cannot_be_replayed_raises(make):
    # A replay returns the leaves it computed, put back into the output's structure; any other object would be
    # the one made at trace time, with trace-time values, on every call.
    f = cr.jit(lambda x: make(x * 2))
    with pytest.raises(TypeError, match="cr.jit.*returned.*tuples, lists, dicts"):
        f(np.ones(3))


def test_outputs_of_scalars_and_strings_are_static():
    f = cr.jit(lambda x: (x * 2, "label", 3, 2.5, None, np.float32(1.5), {"n": x.shape[0]}))
    f(np.ones(3))
    out = f(np.full(3, 2.0))
    np.testing.assert_array_equal(out[0], [4.0] * 3)
    assert out[1:] == ("label", 3, 2.5, None, np.float32(1.5), {"n": 3})


def test_what_the_tracing_call_hands_out_is_not_the_programs_constant():
    # The first call returns (and stores) the arrays the trace computed; a folded constant among them was the
    # very array the program returns copies of, so changing it in place changed every later replay.
    def f(x):
        c = np.arange(3.0) * 2
        return x + c, c

    j = cr.jit(f)
    _, c = j(np.zeros(3))
    c += 100
    for out in j(np.zeros(3)):
        np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])

    w = cr.tensor(np.ones(3), requires_grad=True)

    def g(x):
        w.grad = cr.tensor(np.arange(3.0) * 2)
        return (x * w).sum()

    k = cr.jit(g)
    k(np.ones(3))
    w.grad.data += 100
    k(np.ones(3))
    np.testing.assert_array_equal(w.grad.data, [0.0, 2.0, 4.0])


def test_a_signature_evicted_by_another_thread_between_lookup_and_use_still_replays():
    # Another thread's trace may evict the signature this call has just found (max_cache): the program found is
    # still good, and marking it recently used must not raise KeyError.
    from collections import OrderedDict

    class Evicting(OrderedDict):
        def get(self, key, default=None):
            found = super().get(key, default)
            if found is not None:
                self.pop(key)  # what the other thread's popitem does at this moment
            return found

    f = cr.jit(lambda x: x * 2)
    f(np.ones(2))
    f.cache = Evicting(f.cache)
    np.testing.assert_array_equal(f(np.full(2, 3.0)), [6.0, 6.0])


def test_a_static_list_or_dict_is_keyed_by_its_value():
    # the documented signature holds static arguments' values: equal lists made afresh on each call replay, a
    # different one traces again (keyed by identity, each fresh list traced anew, or by id, a freed one's reused)
    f = cr.jit(lambda x, sizes, opts: x * sum(sizes) + opts["shift"], static_argnums=(1, 2), warn_after=10**6)
    x = np.ones(2)
    for _ in range(10):
        np.testing.assert_array_equal(f(x, [2, 3], {"shift": 1.0}), [6.0, 6.0])
    assert f.traces == 1
    np.testing.assert_array_equal(f(x, [2, 4], {"shift": 1.0}), [7.0, 7.0])
    np.testing.assert_array_equal(f(x, [2, 3], {"shift": 2.0}), [7.0, 7.0])
    assert f.traces == 3
