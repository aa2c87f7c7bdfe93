"""Creation functions: NumPy's signatures and dtypes, batched inside vmap, and Tensor arguments keep their graph."""

import inspect
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

B = np.arange(6.0).reshape(2, 3)


# ---- *_like inside vmap: a batched argument gives a batched constant ---------------------------
LIKES = [
    ("cr.zeros_like", lambda x: cr.zeros_like(x), 0.0),
    ("cr.ones_like", lambda x: cr.ones_like(x), 1.0),
    ("cr.full_like", lambda x: cr.full_like(x, 2.5), 2.5),
    ("cnp.empty_like", lambda x: cnp.empty_like(x), 0.0),
    ("np.zeros_like", lambda x: np.zeros_like(x), 0.0),
    ("np.ones_like", lambda x: np.ones_like(x), 1.0),
    ("np.full_like", lambda x: np.full_like(x, 2.5), 2.5),
    ("cnp.ones_like", lambda x: cnp.ones_like(x), 1.0),
]


@pytest.mark.parametrize("name,like,value", LIKES, ids=[n for n, _, _ in LIKES])
def test_like_functions_of_a_batched_value(name, like, value):
    x = B.astype(np.float32)
    out = cr.vmap(lambda v: v + like(v))(x)
    assert out.dtype == np.float32  # the dtype of the logical value
    np.testing.assert_array_equal(out, x + value)
    nested = cr.vmap(cr.vmap(lambda v: like(v) * 1.0))(x)  # batched at two levels
    np.testing.assert_array_equal(nested, np.full_like(x, value))


def test_a_batched_zeros_like_can_be_written_into_with_batched_values():
    # the pattern the in-place error messages inside vmap recommend
    def f(x):
        y = cr.zeros_like(x)
        y[0] = x[2]
        y += x
        return y

    want = B.copy()
    want[:, 0] += B[:, 2]
    np.testing.assert_array_equal(cr.vmap(f)(B), want)
    np.testing.assert_array_equal(cr.vmap(cr.vmap(f))(np.stack([B, 2 * B])), np.stack([want, 2 * want]))


def test_like_functions_inside_vmap_take_dtype_and_shape():
    out = cr.vmap(lambda v: cr.ones_like(v, dtype=np.float32, shape=(4,)))(B)
    assert out.shape == (2, 4) and out.dtype == np.float32
    out = cr.vmap(lambda v: cr.zeros_like(v, shape=(4,)) + v[0])(B)
    np.testing.assert_array_equal(out, np.repeat(B[:, :1], 4, axis=1))
    with pytest.raises(RuntimeError, match="batched value inside vmap cannot become a leaf"):
        cr.vmap(lambda v: cr.zeros_like(v, requires_grad=True))(B)


def test_like_functions_inside_the_other_transforms():
    np.testing.assert_allclose(cr.jacrev(lambda x: x * cr.ones_like(x))(B[0]), np.eye(3))
    np.testing.assert_allclose(cr.jacfwd(lambda x: x + np.zeros_like(x))(B[0]), np.eye(3))
    H = cr.hessian(lambda x: ((x + cr.zeros_like(x)) ** 3).sum())(B[0])
    np.testing.assert_allclose(H, np.diag(6 * B[0]))
    _, t = cr.vmap(lambda x: cr.jvp(lambda z: z * z, (x,), (cr.ones_like(x),)))(B)
    np.testing.assert_allclose(t, 2 * B)


# ---- full / full_like / linspace / logspace with Tensor arguments keep the graph ----------------
def test_full_and_full_like_of_a_tensor_on_the_graph_keep_it():
    s = cr.tensor(2.0, requires_grad=True)
    y = cr.full((2, 3), s)
    assert y.requires_grad and y.shape == (2, 3) and y.dtype == np.float64
    y.sum().backward()
    assert s.grad.item() == 6.0
    v = cr.tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    z = cr.full_like(np.zeros((2, 3)), v)  # the dtype of a, as NumPy
    assert z.dtype == np.float64 and z.requires_grad
    (z * np.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(v.grad.data, [3.0, 5.0, 7.0])
    assert v.grad.dtype == np.float32
    with pytest.raises(ValueError, match="cannot fill shape"):
        cr.full((3,), cr.tensor(np.ones((2, 3)), requires_grad=True))
    with pytest.raises(RuntimeError, match="not a leaf"):
        cr.full(3, s, requires_grad=True)
    assert cr.gradcheck(lambda a: cr.full((2, 2), a) * 3.0, (np.array(1.5),))


def test_full_like_inside_vmap_with_a_batched_fill_value():
    out = cr.vmap(lambda x: cr.full_like(x, x[0]))(B)
    np.testing.assert_array_equal(out, np.repeat(B[:, :1], 3, axis=1))
    out = cr.vmap(lambda x: cr.full((2,), x[1]))(B)
    np.testing.assert_array_equal(out, np.repeat(B[:, 1:2], 2, axis=1))
    np.testing.assert_allclose(cr.grad(lambda x: cr.full_like(np.zeros(4), x).sum())(1.0), 4.0)


LINSPACES = [
    ((0.0, 1.0, 5), {}),
    ((np.float32(0), np.float32(2), 4), {"endpoint": False}),
    ((np.array([0.0, 1.0]), np.array([[2.0], [3.0]]), 3), {"axis": -1}),
    ((np.array([0.0, 1.0]), 5.0, 4), {"axis": 1}),
    ((0.0, 1.0, 1), {}),
    ((0.0, 1.0, 0), {}),
    ((1.0, 7.0, 4), {"dtype": np.int64}),
]


@pytest.mark.parametrize("args,kw", LINSPACES)
def test_linspace_of_tensors_matches_numpy_and_differentiates(args, kw):
    want = np.linspace(*args, **kw)
    for start, stop in [(cr.tensor(args[0]), cr.tensor(args[1])),  # plain Tensors: values only
                        (cr.tensor(args[0], requires_grad=True), cr.tensor(args[1], requires_grad=True))]:
        got = cr.linspace(start, stop, *args[2:], **kw)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got.data, want)
        assert got.requires_grad == (start.requires_grad and want.dtype.kind == "f")
    got, step = np.linspace(cr.tensor(0.0, requires_grad=True), 1.0, 5, retstep=True)  # through NumPy's protocol
    assert isinstance(got, cr.Tensor) and got.requires_grad and step.item() == 0.25


def test_linspace_and_logspace_gradients():
    assert cr.gradcheck(lambda a, b: cr.linspace(a, b, 5, axis=-1), (np.array([0.0, 1.0]), np.array([[2.0], [3.0]])))
    assert cr.gradcheck(lambda a, b: cnp.logspace(a, b, 4, base=2.0), (np.array(0.5), np.array(2.0)))
    a = cr.tensor(0.0, requires_grad=True)
    cr.linspace(a, 1.0, 5).sum().backward()
    assert a.grad.item() == 2.5  # sum over i of 1 - i/4
    np.testing.assert_allclose(cr.jacfwd(lambda x: cr.linspace(x[0], x[1], 3))(np.array([0.0, 1.0])),
                               [[1, 0], [0.5, 0.5], [0, 1]])
    np.testing.assert_allclose(cr.vmap(lambda x: cr.linspace(x[0], x[1], 3))(B[:, :2]),
                               np.linspace(B[:, 0], B[:, 1], 3, axis=-1))
    np.testing.assert_array_equal(cnp.logspace(cr.tensor(0.0), cr.tensor(2.0), 3).data, np.logspace(0, 2, 3))
    y = cnp.logspace(cr.tensor(0.0, requires_grad=True), 2.0, 3, base=np.array([2.0, 3.0]), axis=-1)
    np.testing.assert_allclose(y.data, np.logspace(0, 2.0, 3, base=np.array([2.0, 3.0]), axis=-1))


# ---- cr.tensor / cr.as_tensor --------------------------------------------------------------
def test_as_tensor_shares_memory_and_a_cast_keeps_the_graph():
    a = np.ones(2, np.float32)
    assert cr.as_tensor(a).data is a and cr.as_tensor(a).dtype == np.float32
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    assert cr.as_tensor(t) is t and cr.as_tensor(t, np.float64) is t
    y = cr.as_tensor(t, np.float32)  # torch.as_tensor(t, dtype) is t.to(dtype)
    assert y.dtype == np.float32 and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, [1.0, 1.0])
    with pytest.warns(UserWarning, match="as_tensor.*graph .* is not kept"):
        assert not cr.as_tensor([t[0], t[1]]).requires_grad
    with pytest.raises(ValueError, match="device"):
        cr.as_tensor(a, device="cuda")


def test_tensor_and_creation_dtypes_follow_numpy():
    assert cr.tensor(1.0).dtype == np.float64 and cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor(np.ones(2, np.float32)).dtype == np.float32
    assert cr.tensor([1, 2], dtype=np.float32, requires_grad=True).requires_grad
    for make in (lambda **k: cr.zeros(2, **k), lambda **k: cr.ones(2, **k), lambda **k: cr.full(2, 1.0, **k),
                 lambda **k: cr.eye(2, **k), lambda **k: cr.arange(3.0, **k), lambda **k: cr.linspace(0, 1, 3, **k),
                 lambda **k: cr.zeros_like(np.ones(2, np.float32), **k), lambda **k: cr.ones_like(cr.ones(2), **k)):
        t = make(requires_grad=True)
        assert t.requires_grad and t.is_leaf
        assert make(dtype=np.float32).dtype == np.float32
    assert cr.zeros_like(np.ones(2, np.float32)).dtype == np.float32  # never promoted
    assert cr.full(2, 7).dtype == np.int64 and cr.arange(3).dtype == np.int64  # as NumPy
    for bad in (lambda: cr.arange(3, requires_grad=True), lambda: cr.tensor([1, 2], requires_grad=True),
                lambda: cr.zeros(2, dtype=int, requires_grad=True)):
        with pytest.raises(TypeError, match="floating-point"):
            bad()


def test_chainrule_numpy_creation_signatures_agree_with_numpy():
    for name in sorted(cnp._CREATION):
        ours, theirs = inspect.signature(getattr(cnp, name)), inspect.signature(getattr(np, name))
        if name == "arange":  # NumPy's own signature cannot be spelled in Python (start is optional first)
            continue
        for i, (key, p) in enumerate(theirs.parameters.items()):
            mine = list(ours.parameters.values())[i] if p.kind != p.KEYWORD_ONLY else ours.parameters.get(key)
            assert mine is not None, f"{name}: no parameter {key}"
            if p.kind != p.POSITIONAL_ONLY:
                assert mine.name == key, f"{name}: parameter {i} is {mine.name}, NumPy's is {key}"
            if p.default is not p.empty and p.default not in (float,):
                assert mine.default == p.default or (p.default is None), f"{name}({key}=) default"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cnp.array([[1, 2]], ndmin=3).shape == (1, 1, 2)


def test_linspace_with_a_traced_endpoint_keeps_float32():
    start = cr.tensor(np.float32(0.0), requires_grad=True)
    assert cr.linspace(start, 1.0, 3).dtype == np.float32  # a Python float never promotes
    assert cr.linspace(start, np.array([1.0, 2.0]), 3).dtype == np.float64  # a float64 array does, as NumPy
