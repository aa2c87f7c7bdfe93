"""Tensor.register_hook, retain_grad, the non-leaf .grad warning and cr.autograd.detect_anomaly."""

import warnings

import numpy as np
import pytest

import chainrule as cr


def test_hook_on_a_non_leaf_replaces_its_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    seen = []
    handle = y.register_hook(lambda g: (seen.append(g.data.copy()), g * 10.0)[1])
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], [6.0, 12.0])  # d(y²)/dy
    np.testing.assert_allclose(x.grad.data, [180.0, 360.0])  # 3 · 10 · 2y
    handle.remove()
    handle.remove()  # a second remove does nothing
    x.grad = None
    y = x * 3.0
    y.register_hook(lambda g: None)  # None leaves the gradient alone
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.data, [18.0, 36.0])


def test_hook_on_a_leaf_runs_before_accumulation_and_in_autograd_grad():
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    x.register_hook(lambda g: g * 2.0)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [4.0, -4.0])
    (gx,) = cr.autograd.grad((x * 5.0).sum(), [x])
    np.testing.assert_allclose(gx.data, [10.0, 10.0])


def test_hooks_run_in_order_and_see_the_summed_gradient():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * 1.0
    order = []
    y.register_hook(lambda g: (order.append(("a", g.item())), g + 1.0)[1])
    y.register_hook(lambda g: (order.append(("b", g.item())), None)[1])
    (y * y + y).backward()  # dz/dy = 2y + 1 = 5, from two uses
    assert order == [("a", 5.0), ("b", 6.0)]
    assert x.grad.item() == 6.0


def test_hook_with_create_graph_is_differentiable():
    x = cr.tensor(3.0, requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g * x)
    (gx,) = cr.autograd.grad(y, [x], create_graph=True)
    assert gx.item() == 18.0  # 2x · x
    (ggx,) = cr.autograd.grad(gx, [x])
    assert ggx.item() == 12.0  # d(2x²)/dx


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).register_hook(lambda g: g)
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: cr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="shape"):
        y.sum().backward()


def test_retain_grad_and_the_non_leaf_warning():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    z = y * 2.0
    y.retain_grad()
    assert y.retains_grad and not z.retains_grad
    z.sum().backward()
    np.testing.assert_allclose(y.grad.data, [2.0, 2.0])
    with pytest.warns(UserWarning, match="not a leaf"):
        assert z.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None and cr.tensor([1.0]).grad is None
    x.retain_grad()  # a leaf: nothing to do
    assert not x.retains_grad


def test_retain_grad_accumulates_over_passes_like_a_leaf():
    x = cr.tensor([1.0], requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    (y * 2.0).sum().backward(retain_graph=True)
    (y * 2.0).sum().backward()
    np.testing.assert_allclose(y.grad.data, [4.0])


def test_hooks_leave_with_their_graph():
    from chainrule.core.hooks import TENSOR_HOOKS

    before = len(TENSOR_HOOKS)
    for _ in range(3):
        x = cr.tensor([1.0], requires_grad=True)
        y = x * 2.0
        y.register_hook(lambda g: g)
        y.retain_grad()
    del x, y
    import gc

    gc.collect()
    assert len(TENSOR_HOOKS) == before


def test_detect_anomaly_names_the_primitive_and_the_line():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = cr.sqrt(x)  # THE LINE
        with np.errstate(divide="ignore"), pytest.raises(RuntimeError) as info:
            (y * 2.0).sum().backward()
    msg = str(info.value)
    assert "'sqrt'" in msg and "inf" in msg
    line = next(i for i, text in enumerate(open(__file__), 1) if "# THE LINE" in text and "sqrt" in text)
    assert f"{__file__}:{line}" in msg


def test_detect_anomaly_nan_and_nothing_outside():
    x = cr.tensor([-1.0, 1.0], requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = cr.log(x)  # nan forward, made outside anomaly mode: backward is not checked
        y.sum().backward(retain_graph=True)
        z = x * cr.tensor([np.nan, 1.0])
        with cr.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="'multiply' returned nan"):
                z.sum().backward()
            with pytest.raises(RuntimeError, match="not recorded"):
                z.sum().backward()
    with cr.autograd.detect_anomaly(check_nan=False):
        (x * cr.tensor([np.nan, 1.0])).sum().backward()
    from chainrule.core.anomaly import ANOMALY

    assert ANOMALY.on == 0
