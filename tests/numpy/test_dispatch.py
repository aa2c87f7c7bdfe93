"""NumPy's protocols: ufuncs, ufunc methods and array functions on Tensors record on the tape."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


def test_ufuncs_return_tensors_and_record():
    x = cr.tensor([0.1, 0.2, 0.3], requires_grad=True)
    y = np.exp(x) * np.sin(x)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    xv = x.data
    np.testing.assert_allclose(x.grad.data, np.exp(xv) * (np.sin(xv) + np.cos(xv)))


def test_ndarray_and_numpy_scalar_on_either_side():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    for y in (a + x, x + a, a * x, x * a, a - x, a / x, np.float64(2.0) * x, x * np.float64(2.0), 2 ** x):
        assert isinstance(y, cr.Tensor) and y.requires_grad
    (a * x + np.float64(3) * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 7.0])


def test_array_functions_record():
    x = cr.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = np.sum(np.where(x.data > 0, x, 0.0), axis=0)
    assert isinstance(y, cr.Tensor)
    np.sum(y).backward()
    np.testing.assert_allclose(x.grad.data, [[1, 0], [1, 1]])


def test_plain_numpy_function_of_a_mlp_layer():
    W = cr.tensor(np.ones((3, 2)) * 0.1, requires_grad=True)
    x = np.ones((4, 3))
    loss = np.mean(np.tanh(x @ W) ** 2)
    loss.backward()
    h = np.tanh(x @ W.data)
    np.testing.assert_allclose(W.grad.data, x.T @ (2 * h * (1 - h**2)) / h.size)


def test_ufunc_methods():
    x = cr.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    s = np.add.reduce(x, axis=1)
    m = np.maximum.reduce(x, axis=0)
    c = np.add.accumulate(x, axis=1)
    assert isinstance(s, cr.Tensor) and isinstance(m, cr.Tensor) and isinstance(c, cr.Tensor)
    (s.sum() + m.sum() + c.sum()).backward()
    np.testing.assert_allclose(x.grad.data, [[1 + 0 + 2, 1 + 1 + 1], [1 + 1 + 2, 1 + 0 + 1]])


def test_function_without_rule_raises_type_error_naming_it():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="np.fft.fft|fft"):
        np.fft.fft(x)
    with pytest.raises(TypeError, match="np.gcd"):
        np.gcd(cr.tensor([4, 6]), 2)
    with pytest.raises(TypeError, match="out="):
        np.exp(x, out=np.empty(2))


def test_asarray_leaves_the_tape_and_facts_work():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = np.asarray(x)
    assert type(a) is np.ndarray and a.shape == (2,)
    assert np.shape(x) == (2,) and np.ndim(x) == 1
    assert np.allclose(x, [1.0, 2.0])


def test_chainrule_numpy_namespace_mirrors_numpy():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    y = cnp.sum(cnp.exp(x) * cnp.pi)
    y.backward()
    np.testing.assert_allclose(x.grad.data, np.pi * np.exp(x.data))
    assert cnp.float32 is np.float32 and cnp.newaxis is None
    with pytest.raises(AttributeError, match="no chainrule derivative rule"):
        cnp.fft
