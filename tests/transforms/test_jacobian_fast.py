"""The one-argument fast paths of jacfwd, jacrev and reverse-mode tracing against the general path.

``jacobian._fwd_leaf``, ``jacobian._rev_leaf`` and ``reverse._trace_leaf`` take the common call (one
array argument, one pass) without the pytree and chunk bookkeeping; with them switched off every call
takes the general path. Both must give the same values, types, dtypes and structures.
"""

import importlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import grad, hessian, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp, vmap
from chainrule.transforms import reverse

jac_mod = importlib.import_module("chainrule.transforms.jacobian")  # the module (the package exports the function)


@pytest.fixture
def general(monkeypatch):
    """A context in which every call takes the general path."""

    class Off:
        def __enter__(self):
            monkeypatch.setattr(jac_mod, "_fwd_leaf", lambda *a: jac_mod._GENERAL)
            monkeypatch.setattr(jac_mod, "_rev_leaf", lambda *a: None)
            monkeypatch.setattr(reverse, "_trace_leaf", lambda *a: None)

        def __exit__(self, *exc):
            monkeypatch.undo()

    return Off()


def _same(a, b):
    """Same pytree structure, leaf types, dtypes, shapes and values."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (np.ndarray, cr.Tensor)):
        x = a.data if isinstance(a, cr.Tensor) else a
        y = b.data if isinstance(b, cr.Tensor) else b
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    else:
        assert a == b


def both(general, call):
    fast = call()
    with general:
        slow = call()
    _same(fast, slow)
    return fast


A = np.random.default_rng(0).standard_normal((5, 3))
AT = cr.tensor(A)
X = np.random.default_rng(1).standard_normal(3)
X2 = np.random.default_rng(2).standard_normal((2, 3))


def f(x):
    return cr.tanh(AT @ x)


def g(x):  # R^(2x3) -> R^(3)
    return cr.sin(x).sum(axis=0) * x[0]


@pytest.mark.parametrize("jac", [jacfwd, jacrev, jacobian])
@pytest.mark.parametrize("x", [X, X2, 1.5, np.float64(0.3)], ids=["vec", "mat", "float", "npscalar"])
def test_values_types_and_shapes(general, jac, x):
    fn = f if np.ndim(x) == 1 else g if np.ndim(x) == 2 else (lambda v: cr.exp(v) * v)
    out = both(general, lambda: jac(fn)(x))
    assert isinstance(out, np.ndarray)


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_tensor_in_tensor_out(general, jac):
    out = both(general, lambda: jac(f)(cr.tensor(X)))
    assert isinstance(out, cr.Tensor)
    # a Tensor among the other arguments makes every result a Tensor too
    out = both(general, lambda: jac(lambda x, w: f(x) * w)(X, cr.tensor(2.0)))
    assert isinstance(out, cr.Tensor)
    out = both(general, lambda: jac(lambda x, w=1.0: f(x) * w)(X, w=cr.tensor(2.0)))
    assert isinstance(out, cr.Tensor)


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_float32_preserved(general, jac):
    x = X.astype(np.float32)
    A32 = cr.tensor(A.astype(np.float32))
    out = both(general, lambda: jac(lambda v: cr.tanh(A32 @ v))(x))
    assert out.dtype == np.float32


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_argnums(general, jac):
    h = lambda a, b: cr.sin(a) * b.sum()  # noqa: E731
    both(general, lambda: jac(h, argnums=1)(X, X + 1))
    both(general, lambda: jac(h, argnums=(1,))(X, X + 1))
    both(general, lambda: jac(h, argnums=(0, 1))(X, X + 1))
    both(general, lambda: jac(h, argnums=-1)(X, X + 1))


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_has_aux(general, jac):
    h = lambda x: (f(x), {"y": f(x) * 2, "name": "aux", "n": 3})  # noqa: E731
    J, aux = both(general, lambda: jac(h, has_aux=True)(X))
    assert aux["name"] == "aux" and aux["n"] == 3
    with pytest.raises(TypeError, match="pair"):
        jac(lambda x: f(x), has_aux=True)(X)


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_pytree_and_constant_outputs(general, jac):
    both(general, lambda: jac(lambda x: (f(x), {"b": x * 2, "a": [cr.sum(x)]}))(X))
    both(general, lambda: jac(lambda x: (f(x),))(X))
    both(general, lambda: jac(lambda x: (f(x), 3.0))(X))
    both(general, lambda: jac(lambda x: f(x) * 0 + 1)(X))


def test_constant_output_forward(general):
    both(general, lambda: jacfwd(lambda x: 2.0)(X))
    both(general, lambda: jacfwd(lambda x: cr.tensor(np.ones(4)))(X))


@pytest.mark.parametrize("inner", [jacfwd, jacrev])
@pytest.mark.parametrize("outer", [jacfwd, jacrev])
def test_nested(general, inner, outer):
    both(general, lambda: outer(inner(f))(X))
    both(general, lambda: outer(inner(f, argnums=(0,)), argnums=(0,))(X))
    both(general, lambda: hessian(lambda x: cr.sum(f(x) ** 3))(X))


def test_composed_with_other_transforms(general):
    both(general, lambda: vmap(jacfwd(f))(np.stack([X, X + 1])))
    both(general, lambda: vmap(jacrev(f))(np.stack([X, X + 1])))
    both(general, lambda: jvp(jacrev(f), (X,), (np.ones(3),)))
    both(general, lambda: jvp(jacfwd(f), (X,), (np.ones(3),)))
    both(general, lambda: grad(lambda x: cr.sum(jacrev(f)(x) ** 2))(X))
    both(general, lambda: grad(lambda x: cr.sum(jacfwd(f)(x) ** 2))(X))
    # a closure over the outer variable: the inner Jacobian depends on it
    both(general, lambda: grad(lambda w: cr.sum(jacfwd(lambda x: cr.tanh(x * w))(X)))(1.3))
    both(general, lambda: grad(lambda w: cr.sum(jacrev(lambda x: cr.tanh(x * w))(X)))(1.3))


def test_reverse_transforms_share_the_fast_trace(general):
    s = lambda x: cr.sum(f(x) ** 2)  # noqa: E731
    both(general, lambda: grad(s)(X))
    both(general, lambda: grad(s)(cr.tensor(X)))
    both(general, lambda: value_and_grad(s)(X))
    both(general, lambda: grad(grad(lambda x: x ** 3))(2.0))
    out, fn = vjp(f, X)
    with general:
        out2, fn2 = vjp(f, X)
    _same(out, out2)
    _same(fn(np.ones(5)), fn2(np.ones(5)))


def test_user_tensor_requiring_grad(general):
    x = cr.tensor(X, requires_grad=True)
    J = jacrev(f)(x)
    J2 = jacfwd(f)(x)
    with general:
        K = jacrev(f)(x)
        K2 = jacfwd(f)(x)
    _same(J.detach(), K.detach())
    _same(J2.detach(), K2.detach())
    assert J.requires_grad == K.requires_grad and J2.requires_grad == K2.requires_grad


def _message(call):
    """The error a call raises (or its result's repr, where it succeeds)."""
    try:
        return repr(call())
    except (TypeError, ValueError) as e:
        return type(e), str(e)


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_errors_unchanged(general, jac):
    calls = [lambda: jac(f)(np.arange(3)),  # an integer input
             lambda: jac(lambda x: cr.tensor(np.arange(3)))(X),  # an integer output (forward: zeros)
             lambda: jac(f, has_aux=True)(X),  # no pair
             lambda: jac(f, argnums=1)(X)]  # out of range
    for call in calls:
        got = _message(call)
        with general:
            assert _message(call) == got


def test_empty_and_chunked_inputs(general):
    both(general, lambda: jacfwd(lambda x: x * 2)(np.zeros(0)))
    both(general, lambda: jacrev(lambda x: x * 2)(np.zeros(0)))
    both(general, lambda: jacfwd(f, chunk_size=2)(X))
    both(general, lambda: jacrev(f, chunk_size=2)(X))


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_basis_one_leaf_is_the_identity_rows(shape, dtype):
    # _basis's one-leaf branch (np.eye) against its general construction (a second, empty leaf forces it)
    from chainrule.core.batching import vmap_level

    n = int(np.prod(shape))
    with vmap_level(n) as lv:
        (fast,) = jac_mod._basis([shape], [np.dtype(dtype)], lv, 0, n)
        slow, _ = jac_mod._basis([shape, (0,)], [np.dtype(dtype)] * 2, lv, 0, n)
    assert fast.val.data.dtype == slow.val.data.dtype == dtype
    assert fast.val.data.shape == slow.val.data.shape == (n,) + shape
    assert np.array_equal(fast.val.data, slow.val.data)
    assert np.array_equal(fast.val.data.reshape(n, n), np.eye(n))


def test_jacobian_auto_records_on_the_fast_trace(general):
    # "auto" records f's operations (forward mode replays them when inputs are fewer than outputs)
    wide = lambda x: cr.tanh(AT @ x)  # noqa: E731  R^3 -> R^5: replayed forward
    tall = lambda x: cr.tanh(cr.tensor(A.T) @ x)  # noqa: E731  R^5 -> R^3: reverse
    both(general, lambda: jacobian(wide)(X))
    both(general, lambda: jacobian(tall)(np.ones(5)))
    both(general, lambda: jacobian(lambda x: (wide(x), x), has_aux=True)(X))
