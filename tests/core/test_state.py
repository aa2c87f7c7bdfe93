"""Recording modes: no_grad / enable_grad / set_grad_enabled as calls, context managers and decorators."""

import threading

import pytest

import chainrule as cr


def test_set_grad_enabled_as_a_call_takes_effect_at_once():
    x = cr.tensor(2.0, requires_grad=True)
    try:
        cr.set_grad_enabled(False)
        assert not cr.is_grad_enabled() and not (x * x).requires_grad
    finally:
        cr.set_grad_enabled(True)
    assert (x * x).requires_grad
    with cr.set_grad_enabled(False):
        assert not (x * x).requires_grad
    assert cr.is_grad_enabled()


def test_decorators_with_and_without_parentheses():
    x = cr.tensor(2.0, requires_grad=True)

    @cr.no_grad
    def a(x):
        return x * x

    @cr.no_grad()
    def b(x):
        return x * x

    @cr.set_grad_enabled(False)
    def c(x):
        return x * x

    assert cr.is_grad_enabled()  # decorating changes nothing outside
    assert not any(f(x).requires_grad for f in (a, b, c)) and a.__name__ == "a"
    with cr.no_grad():
        assert cr.enable_grad()(lambda: (x * x).requires_grad)()
        assert not (x * x).requires_grad


def test_a_decorated_generator_records_in_its_mode_at_every_step():
    x = cr.tensor(2.0, requires_grad=True)

    @cr.no_grad()
    def gen():
        received = yield (x * x).requires_grad
        yield (x * received).requires_grad
        return "done"

    g = gen()
    assert next(g) is False
    assert (x * x).requires_grad  # between steps the caller's mode holds
    assert g.send(3.0) is False
    try:
        next(g)
    except StopIteration as stop:
        assert stop.value == "done"


def test_modes_are_per_thread():
    seen = {}

    def other():
        seen["other"] = cr.is_grad_enabled()

    with cr.no_grad():
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert not cr.is_grad_enabled()
    assert seen["other"] is True
    ready, done = threading.Event(), threading.Event()

    def quiet():
        with cr.no_grad():
            ready.set()
            done.wait()

    t = threading.Thread(target=quiet)
    t.start()
    ready.wait()
    assert (cr.tensor(1.0, requires_grad=True) * 2).requires_grad  # the other thread's no_grad is its own
    done.set()
    t.join()


def test_set_grad_enabled_entered_later_applies_its_mode_and_wants_a_bool():
    m = cr.set_grad_enabled(False)
    cr.set_grad_enabled(True)
    with m:  # as PyTorch: entering applies the mode again
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    with pytest.raises(TypeError, match="mode must be True or False"):
        cr.set_grad_enabled(lambda: None)  # @cr.set_grad_enabled without (False)
