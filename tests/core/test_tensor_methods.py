"""Tensor's attributes: the same set as before they were bound from one table, the methods that are the public
functions themselves, and what a sample of operators and methods compute."""

import ast
import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import tensor
from chainrule.core.primitive import Primitive
from chainrule.ops.methods import TENSOR_METHODS

# sorted(dir(cr.Tensor)) as it was on main when the bindings were gathered into ops/methods.py
# (108 attributes of its own, the rest from object), and register_post_accumulate_grad_hook (core/hooks.py).
ATTRIBUTES = [
    'T', '__abs__', '__add__', '__and__', '__array__', '__array_function__', '__array_priority__',
    '__array_ufunc__', '__bool__', '__class__', '__deepcopy__', '__delattr__', '__dir__', '__doc__', '__eq__',
    '__float__', '__floordiv__', '__format__', '__ge__', '__getattribute__', '__getitem__', '__getstate__',
    '__gt__', '__hash__', '__iadd__', '__iand__', '__ifloordiv__', '__imatmul__', '__imod__', '__imul__',
    '__index__', '__init__', '__init_subclass__', '__int__', '__invert__', '__ior__', '__ipow__', '__isub__',
    '__iter__', '__itruediv__', '__ixor__', '__le__', '__len__', '__lt__', '__matmul__', '__mod__', '__module__',
    '__mul__', '__ne__', '__neg__', '__new__', '__or__', '__pos__', '__pow__', '__radd__', '__reduce__',
    '__reduce_ex__', '__repr__', '__rfloordiv__', '__rmatmul__', '__rmod__', '__rmul__', '__rpow__', '__rsub__',
    '__rtruediv__', '__setattr__', '__setitem__', '__sizeof__', '__slots__', '__str__', '__sub__',
    '__subclasshook__', '__truediv__', '__weakref__', '__xor__', '_fw', '_grad', '_node', 'all', 'angle', 'any',
    'argmax', 'argmin', 'astype', 'backward', 'clip', 'conj', 'conjugate', 'copy', 'cumsum', 'data', 'detach',
    'diagonal', 'dot',
    'dtype', 'flatten', 'grad', 'grad_fn', 'imag', 'is_leaf', 'item', 'max', 'mean', 'min', 'ndim', 'numpy', 'prod',
    'ravel', 'real', 'register_post_accumulate_grad_hook',
    'repeat', 'requires_grad', 'requires_grad_', 'reshape', 'round', 'shape', 'size', 'squeeze', 'std',
    'sum', 'swapaxes', 'take', 'tolist', 'trace', 'transpose', 'var'
]
# issue 11's order statistics, NaN reductions and elementwise functions
ATTRIBUTES = sorted(ATTRIBUTES + ['cumprod', 'deg2rad', 'fmax', 'fmin', 'logaddexp2', 'nan_to_num', 'nanmean',
                                  'nanquantile', 'nansum', 'quantile', 'rad2deg', 'sinc'])


# Added by issue 11 (API.md, "Additions (second round)"): PyTorch users' methods and divmod.
ADDED = [
    '__divmod__', '__rdivmod__', 'abs', 'add', 'amax', 'amin', 'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan',
    'arctan2', 'arctanh', 'broadcast_to', 'ceil', 'clamp', 'cos', 'cosh', 'count_nonzero', 'divide', 'exp',
    'exp2', 'expand_dims', 'expm1', 'floor', 'floor_divide', 'fmod', 'heaviside', 'hypot', 'isfinite', 'isinf',
    'isnan', 'log', 'log10', 'log1p', 'log2', 'log_softmax', 'logaddexp', 'logsumexp', 'matmul', 'maximum',
    'minimum', 'multiply', 'negative', 'norm', 'pow', 'reciprocal', 'relu', 'remainder', 'sigmoid', 'sign',
    'signbit', 'sin', 'sinh', 'softmax', 'sqrt', 'square', 'subtract', 'tan', 'tanh', 'trunc', 'unsqueeze',
    'register_hook',
    'retain_grad',
    'retains_grad',
]


def test_tensor_has_the_recorded_attributes():
    assert sorted(dir(cr.Tensor)) == sorted(ATTRIBUTES + ADDED)


# Methods that are the public function itself (a Tensor is the first argument).
SAME_AS_FUNCTION = {
    "matmul": cr.matmul, "expand_dims": cr.expand_dims, "broadcast_to": cr.broadcast_to,
    "reshape": cr.reshape, "transpose": cr.transpose, "swapaxes": cr.swapaxes, "squeeze": cr.squeeze,
    "flatten": cr.flatten, "ravel": cr.ravel, "repeat": cr.repeat, "dot": cr.dot, "take": cr.take,
    "trace": cr.trace, "diagonal": cr.diagonal, "__matmul__": cr.matmul,
}


# Methods that are the public function taking PyTorch's dim= (keepdim=) as well as axis= (keepdims=).
WITH_DIM = {
    "sum": cr.sum, "mean": cr.mean, "prod": cr.prod, "max": cr.max, "min": cr.min, "var": cr.var, "std": cr.std,
    "cumsum": cr.cumsum, "argmax": cr.argmax, "argmin": cr.argmin, "any": cr.any, "all": cr.all,
    "amax": cr.amax, "amin": cr.amin, "logsumexp": cr.logsumexp, "count_nonzero": cr.count_nonzero,
    "softmax": cr.softmax, "log_softmax": cr.log_softmax, "norm": cr.norm,
}


@pytest.mark.parametrize("name", sorted(SAME_AS_FUNCTION))
def test_a_method_is_its_public_function(name):
    assert getattr(cr.Tensor, name) is SAME_AS_FUNCTION[name]


@pytest.mark.parametrize("name", sorted(WITH_DIM))
def test_a_method_with_dim_is_its_public_function(name):
    fn = WITH_DIM[name]
    method = getattr(cr.Tensor, name)
    assert method.__wrapped__ is fn
    x = cr.tensor(np.abs(_a) + 0.5)
    np.testing.assert_allclose(np.asarray(method(x, axis=1).data, float), np.asarray(fn(x, axis=1).data, float))
    if name in ("max", "min", "var", "std"):  # PyTorch's computes something else: refused, saying what to write
        with pytest.raises(TypeError, match=f"{name}\\(dim=...\\): PyTorch's t.{name}\\(dim=\\)"):
            method(x, dim=1)
        return
    np.testing.assert_allclose(np.asarray(method(x, dim=1).data, float), np.asarray(fn(x, axis=1).data, float))
    np.testing.assert_allclose(np.asarray(method(x, dim=0).data, float), np.asarray(fn(x, axis=0).data, float))
    with pytest.raises(TypeError, match=f"{fn.__name__}: both axis= and its PyTorch alias dim="):
        method(x, axis=0, dim=1)


_a = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
_b = np.array([[2.0, 0.5, -1.5], [3.0, 1.0, 2.5]])

BINARY = {
    "__add__": np.add, "__sub__": np.subtract, "__mul__": np.multiply, "__truediv__": np.divide,
    "__floordiv__": np.floor_divide, "__mod__": np.mod, "__lt__": np.less, "__le__": np.less_equal,
    "__gt__": np.greater, "__ge__": np.greater_equal, "__eq__": np.equal, "__ne__": np.not_equal,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_operators_and_their_reflections_compute_numpys(name):
    x, y = cr.tensor(_a), cr.tensor(_b)
    np.testing.assert_allclose(getattr(x, name)(y).data, BINARY[name](_a, _b))
    reflected = "__r" + name[2:]
    if hasattr(cr.Tensor, reflected):
        np.testing.assert_allclose(getattr(x, reflected)(_b).data, BINARY[name](_b, _a))


def test_power_matmul_unary_and_bitwise_operators():
    x, y = cr.tensor(np.abs(_a)), cr.tensor(_b)
    np.testing.assert_allclose((x ** y).data, np.abs(_a) ** _b)
    np.testing.assert_allclose((2.0 ** y).data, 2.0 ** _b)
    np.testing.assert_allclose((x @ y.T).data, np.abs(_a) @ _b.T)
    np.testing.assert_allclose((_b @ x.T).data, _b @ np.abs(_a).T)  # __rmatmul__
    np.testing.assert_allclose((-y).data, -_b)
    np.testing.assert_allclose((+y).data, _b)
    np.testing.assert_allclose(abs(y).data, np.abs(_b))
    i, j = cr.tensor(np.array([5, 6])), cr.tensor(np.array([3, 12]))
    for op in ("__and__", "__or__", "__xor__"):
        np.testing.assert_array_equal(getattr(i, op)(j).data, getattr(i.data, op)(j.data))
    np.testing.assert_array_equal((~i).data, ~i.data)


IN_PLACE = {"__iadd__": np.add, "__isub__": np.subtract, "__imul__": np.multiply, "__itruediv__": np.divide,
            "__ipow__": np.power, "__ifloordiv__": np.floor_divide, "__imod__": np.mod}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_operators_change_the_tensor_itself(name):
    x = cr.tensor(np.abs(_a))
    assert getattr(x, name)(cr.tensor(np.abs(_b))) is x
    np.testing.assert_allclose(x.data, IN_PLACE[name](np.abs(_a), np.abs(_b)))


def test_in_place_operators_record_on_the_tape():
    w = cr.tensor(_a, requires_grad=True)
    y = w * 1.0
    y *= cr.tensor(_b)
    y @= cr.tensor(np.eye(3))
    y.sum().backward()
    np.testing.assert_allclose(w.grad.data, _b)


def test_indexing_the_transpose_and_the_ndarray_methods():
    x = cr.tensor(_a, requires_grad=True)
    np.testing.assert_array_equal(x[1, ::2].data, _a[1, ::2])
    np.testing.assert_array_equal(x.T.data, _a.T)
    y = x * 1.0
    y[0] = cr.tensor([7.0, 8.0, 9.0])
    np.testing.assert_array_equal(y.data[0], [7.0, 8.0, 9.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(x.clip(0.0, 2.0).data, _a.clip(0.0, 2.0))
    np.testing.assert_array_equal(x.round().data, _a.round())
    np.testing.assert_array_equal(x.copy().data, _a)
    np.testing.assert_array_equal(x.conj().data, _a)
    assert x.astype(np.int64).dtype == np.int64 and not x.astype(np.int64).requires_grad
    assert x.astype(np.float32).requires_grad
    np.testing.assert_allclose(x.sum(axis=0).data, _a.sum(axis=0))
    np.testing.assert_allclose(x.reshape(3, 2).data, _a.reshape(3, 2))


def test_numpys_protocols_reach_the_primitives():
    x = cr.tensor(_a, requires_grad=True)
    y = np.sum(np.exp(x))
    assert isinstance(y, cr.Tensor)
    y.backward()
    np.testing.assert_allclose(x.grad.data, np.exp(_a))
    assert isinstance(_b + x, cr.Tensor)


def test_everything_that_computes_is_bound_from_the_one_table():
    source = ast.parse(inspect.getsource(tensor))
    (cls,) = [n for n in source.body if isinstance(n, ast.ClassDef) and n.name == "Tensor"]
    in_class = {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets} | {
        n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    implicit = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__firstlineno__",
                "__static_attributes__", "_node", "_fw", "_grad", "data"}  # made by class creation and __slots__
    bound_later = set(vars(cr.Tensor)) - in_class - implicit
    assert bound_later == set(TENSOR_METHODS) | {"__array_ufunc__", "__array_function__"}
    for name, fn in TENSOR_METHODS.items():
        method = vars(cr.Tensor)[name]
        assert (method.__name__ == fn.name) if isinstance(fn, Primitive) else (method is fn)
