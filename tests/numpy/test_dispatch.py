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
    with pytest.raises(TypeError, match="np.packbits"):
        np.packbits(x)
    with pytest.raises(TypeError, match="np.gcd"):
        np.gcd(cr.tensor([4, 6]), 2)
    with pytest.raises(TypeError, match="out="):
        np.exp(x, out=np.empty(2))


def test_asarray_leaves_the_tape_and_facts_work():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(cr.GraphDropWarning):
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
    with pytest.raises(TypeError, match="np.packbits has no chainrule derivative rule"):
        cnp.packbits(x)
    with pytest.raises(AttributeError, match="no attribute 'not_a_numpy_name'"):
        cnp.not_a_numpy_name  # noqa: B018 - the attribute access is the test


# ---- chainrule.numpy as a drop-in for ordinary NumPy code ------------------------------------
def test_import_chainrule_numpy_as_np_runs_ordinary_code():
    import chainrule.numpy as np_

    W = cr.tensor(np.ones((3, 2)) * 0.1, requires_grad=True)
    x = np_.linspace(-1, 1, 12).reshape(4, 3)
    b = np_.zeros(2)
    h = np_.tanh(x @ W + b)
    loss = np_.mean(np_.sum(h**2, axis=1)) + 0.1 * np_.linalg.norm(W) ** 2
    loss.backward()
    hv = np.tanh(x.data @ W.data)
    np.testing.assert_allclose(W.grad.data, x.data.T @ (2 * hv * (1 - hv**2)) / 4 + 0.2 * W.data)


@pytest.mark.parametrize("name, args", [
    ("zeros", ((2, 3),)), ("ones", (3,)), ("empty", ((2,),)), ("full", ((2,), 7.0)), ("eye", (3,)),
    ("identity", (2,)), ("arange", (5,)), ("linspace", (0, 1, 5)), ("logspace", (0, 1, 3)),
    ("zeros_like", (np.ones((2, 2)),)), ("ones_like", (np.ones(3),)), ("full_like", (np.ones(2), 3.0)),
    ("empty_like", (np.ones(2),)), ("array", ([1.0, 2.0],)), ("asarray", ([[1, 2]],)), ("asanyarray", ([1.0],)),
    ("ascontiguousarray", (np.ones((2, 2)).T,)), ("copy", (np.ones(2),)),
])
def test_creation_functions_return_tensors_like_numpy(name, args):
    got, want = getattr(cnp, name)(*args), getattr(np, name)(*args)
    assert isinstance(got, cr.Tensor) and not got.requires_grad
    assert got.shape == want.shape and got.dtype == want.dtype
    if name not in ("empty", "empty_like"):
        np.testing.assert_array_equal(got.data, want)


def test_creation_functions_take_numpy_arguments():
    assert cnp.zeros((2, 2), np.float32).dtype == np.float32
    assert cnp.zeros(3, dtype=int, order="C").dtype == np.int64
    assert cnp.eye(3, 4, 1).shape == (3, 4) and cnp.eye(3, 4, 1).data[0, 1] == 1
    assert cnp.arange(1, 7, 2).tolist() == [1, 3, 5] and cnp.arange(start=1, stop=3).tolist() == [1, 2]
    t, step = cnp.linspace(0, 1, 5, retstep=True)
    assert step == 0.25 and t.shape == (5,)
    assert cnp.zeros_like(np.ones((2, 3)), shape=(4,)).shape == (4,)
    assert cnp.array([1, 2], ndmin=3).shape == (1, 1, 2)
    assert cr.zeros((2,), requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="like="):
        cnp.zeros(2, like=np.ones(2))


def test_constants_dtypes_and_numpy_utilities_pass_through():
    for name in ("pi", "e", "inf", "nan", "newaxis", "float32", "float64", "int64", "bool_", "finfo", "iinfo",
                 "errstate", "dtype", "ndarray", "random", "euler_gamma"):
        assert getattr(cnp, name) is getattr(np, name)
    assert cnp.linalg.LinAlgError is np.linalg.LinAlgError
    assert cnp.sort_complex(np.array([3, 1, 2])).tolist() == [1, 2, 3]  # no rule, but fine on arrays
    assert cnp.isscalar(1.0) and cnp.broadcast_shapes((2, 1), (3,)) == (2, 3)
    assert {"zeros", "linalg", "exp", "sum", "pi"} <= set(dir(cnp))


def test_functions_without_a_rule_raise_type_error_naming_them():
    x = cr.tensor([3.0, 1.0], requires_grad=True)
    for call, name in [(lambda: cnp.sort_complex(x), "np.sort_complex"),
                       (lambda: cnp.require(x), "np.require"), (lambda: cnp.gcd(x, 2), "np.gcd"),
                       (lambda: cnp.fromiter(x, float), "np.fromiter")]:
        with pytest.raises(TypeError, match=name) as info:
            call()
        assert "t.detach().numpy()" in str(info.value)  # it says what to do


def test_functions_returning_values_of_the_data_refuse_a_graph():
    # np.unique's values, np.histogram's edges and np.bincount's weighted sums come from the data
    x = cr.tensor([3.0, 1.0, 3.0], requires_grad=True)
    calls = [(lambda t: np.unique(t), "np.unique"), (lambda t: np.unique(t, return_counts=True), "np.unique"),
             (lambda t: cnp.unique(t), "np.unique"), (lambda t: np.histogram(t, bins=2), "np.histogram"),
             (lambda t: np.histogram(np.ones(3), weights=t), "np.histogram"),
             (lambda t: np.bincount(np.array([0, 1, 1]), weights=t), "np.bincount"),
             (lambda t: np.unique_values(t), "np.unique_values"), (lambda t: np.unique_counts(t), "np.unique_counts")]
    for call, name in calls:
        with pytest.raises(TypeError, match=name + " has no chainrule derivative rule"):
            call(x)
        with pytest.raises(TypeError, match=name):
            cr.jvp(call, (x.data,), (np.ones(3),))  # carrying a tangent
        got = call(x.detach())  # a plain Tensor: NumPy's result on its values, as before
        want = call(x.data)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_array_equal(g, w)
    # facts, booleans and indices of a Tensor on the graph are fine
    assert np.argsort(x).tolist() == [1, 0, 2] and np.allclose(x, x) and np.nonzero(x)[0].tolist() == [0, 1, 2]
    assert np.searchsorted(np.array([1.0, 2.0]), x).tolist() == [2, 0, 2] and "3." in np.array_str(x)
    assert np.bincount(cr.tensor([0, 1, 1])).tolist() == [1, 2]


def test_numpy_aliases_of_chainrule_functions():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    for f in (cnp.fabs, np.fabs, cnp.absolute, cnp.amax, cnp.concat):
        assert (f([x, x]) if f is cnp.concat else f(x)).requires_grad


# ---- copies and conversions keep the graph where NumPy's protocols let them ------------------
def test_copy_keeps_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (np.copy(x), cnp.copy(x), x.copy(), cnp.array(x), cnp.asarray(x, copy=True), cnp.array([x])[0]):
        assert isinstance(y, cr.Tensor) and y.requires_grad and y is not x
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    assert cnp.asarray(x) is x and cnp.ascontiguousarray(x) is x  # as NumPy: no copy when none is needed
    assert cnp.asarray(x, np.float32).requires_grad and cnp.asarray(x, np.float32).dtype == np.float32
    assert not cnp.array(x, dtype=np.int64).requires_grad  # an integer cast leaves the graph


def test_array_of_a_list_of_tensors_stacks_with_the_graph():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = cnp.array([t[0], t[1] * 2])
    assert y.shape == (2, 2) and y.requires_grad
    z = cnp.array([[t[0, 0], 5.0], [1.0, t[1, 1]]])  # nested, with numbers
    np.testing.assert_array_equal(z.data, [[1.0, 5.0], [1.0, 4.0]])
    (y.sum() + z.sum() + cnp.asarray([t[0, 1], t[0, 1]]).sum()).backward()
    np.testing.assert_array_equal(t.grad.data, [[2.0, 3.0], [2.0, 3.0]])


def test_cr_tensor_copies_values_and_warns_when_it_drops_a_graph():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="graph .* is not kept"):
        y = cr.tensor([t[0], t[1]])
    assert not y.requires_grad and y.tolist() == [1.0, 2.0]
    with pytest.warns(UserWarning, match="cr.stack"):
        cr.tensor(t * 2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.tensor([t.detach()[0], cr.tensor(3.0)], requires_grad=True).requires_grad  # a new leaf, no warning


def test_plain_numpy_conversions_leave_the_tape():
    # NumPy converts with __array__ before dispatching: documented in chainrule.numpy's docstring
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(cr.GraphDropWarning):  # never silently
        assert type(np.ascontiguousarray(x)) is np.ndarray and type(np.array(x)) is np.ndarray
    assert "numpy.sum([t, t])" in cnp.__doc__


def test_ufunc_keywords():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.exp(x, dtype=np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    assert np.add(x, 1, where=True).requires_grad
    with pytest.raises(TypeError, match="where="):
        np.add(x, 1, where=np.array([True, False]))
    assert np.add.reduce(x, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="out="):
        np.add.reduce(x, out=np.zeros(()))


def test_where_with_the_condition_alone_gives_indices():
    x = cr.tensor([0.5, 3.0, 4.0])
    (i,) = np.where(x > 1)
    assert isinstance(i, cr.Tensor) and i.tolist() == [1, 2]
    (j,) = cr.where(x > 1)
    assert j.tolist() == [1, 2]
    with pytest.raises(ValueError, match="both or neither"):
        cr.where(x > 1, x)
