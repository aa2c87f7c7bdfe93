"""The Tensor's public surface: the .grad setter keeps the Tensor's shape and dtype (as PyTorch); a tangent
(make_dual, under every jvp) is real for a real Tensor (as JAX)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.core.forward import level, make_dual, tangent_of


def test_assigning_a_grad_of_another_dtype_raises_naming_both():
    t = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    for value in (np.ones(2), cr.tensor(np.ones(2)), [1.0, 2.0], np.ones(2, np.float16), np.ones(2, np.int64)):
        with pytest.raises(TypeError, match=r"dtype (float64|float16|int64), but the Tensor has dtype float32"):
            t.grad = value
        assert t.grad is None  # nothing was stored
    t.grad = np.ones(2, np.float32)
    assert isinstance(t.grad, cr.Tensor) and t.grad.dtype == np.float32
    t.grad = cr.tensor(np.full(2, 3.0, np.float32))
    np.testing.assert_array_equal(t.grad.data, [3.0, 3.0])
    t.grad = None
    assert t.grad is None


def test_assigning_a_grad_of_another_shape_raises():
    t = cr.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(3,\), but the Tensor has shape \(2,\)"):
        t.grad = np.ones(3)
    t.grad = [1.0, 2.0]  # a list of Python floats is float64, like the Tensor
    assert t.grad.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_the_library_only_stores_grads_of_the_tensors_dtype(dtype):
    x = cr.tensor(np.ones(3, dtype), requires_grad=True)
    (x * np.ones(3) + cr.tensor(np.ones(3)) * x).sum().backward()  # float64 constants
    assert x.grad.dtype == dtype
    (x * 2).backward(np.ones(3))  # a float64 seed
    assert x.grad.dtype == dtype
    m = nn.Linear(2, 2).to(dtype)
    m(cr.tensor(np.ones((1, 2), dtype))).sum().backward()
    opt = optim.SGD(m.parameters(), lr=0.1)
    opt.step()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad.dtype == dtype for p in m.parameters())
    m(cr.tensor(np.ones((1, 2), dtype))).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(p.grad.dtype == dtype and not p.grad.data.any() for p in m.parameters())


@pytest.mark.parametrize("primal,tangent", [(np.float64, np.complex128), (np.float32, np.complex64),
                                            (np.float32, np.complex128), (np.float16, np.complex64)])
def test_a_complex_tangent_for_a_real_primal_raises_naming_both(primal, tangent):
    p, t = np.ones(2, primal), np.ones(2, tangent) * (1 + 1j)
    msg = f"complex tangent \\(dtype {np.dtype(tangent)}\\) for a real primal \\(dtype {np.dtype(primal)}\\)"
    with pytest.raises(TypeError, match=msg):
        cr.jvp(lambda x: x * 2, (p,), (t,))
    with level() as lv, pytest.raises(TypeError, match=msg):
        make_dual(cr.tensor(p), cr.tensor(t), lv)


def test_real_tangents_are_cast_to_the_primals_float_dtype():
    for tangent in (np.ones(2), np.ones(2, np.float16), np.ones(2, np.int64)):
        out, t = cr.jvp(lambda x: x * 2, (np.ones(2, np.float32),), (tangent,))
        assert out.dtype == t.dtype == np.float32
        np.testing.assert_array_equal(t, [2.0, 2.0])
    with level() as lv:
        y = make_dual(cr.tensor(np.ones(2, np.complex128)), cr.tensor(np.ones(2) * 1j), lv) * 2
        np.testing.assert_array_equal(tangent_of(y, lv).data, [2j, 2j])  # complex primal, complex tangent
