"""jacobian (forward / reverse / auto), jacfwd, jacrev, hessian, hvp: closed forms, shapes, pytrees, costs."""

import contextlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.function import Function
from chainrule.core.primitive import REGISTRY
from chainrule.transforms import grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp

MODES = ["forward", "reverse", "auto"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(3, 2), (2, 5), (4, 4)])
def test_jacobian_of_linear_map_is_the_matrix(mode, shape):
    A = np.random.default_rng(0).standard_normal(shape)
    J = jacobian(lambda x: cr.tensor(A) @ x, mode=mode)(np.ones(shape[1]))
    assert J.shape == shape and np.allclose(J, A)


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_shapes_are_out_shape_plus_in_shape(jac):
    x = np.random.default_rng(1).standard_normal((2, 3))
    J = jac(lambda x: cr.sin(x).T @ x)(x)  # (3, 3) out, (2, 3) in
    assert J.shape == (3, 3, 2, 3)
    eps = 1e-6
    i, j = 1, 2
    e = np.zeros_like(x)
    e[i, j] = eps
    num = (np.sin(x + e).T @ (x + e) - np.sin(x - e).T @ (x - e)) / (2 * eps)
    assert np.allclose(J[:, :, i, j], num, atol=1e-7)


def test_forward_and_reverse_agree_on_a_nonlinear_function():
    x = np.random.default_rng(2).standard_normal(4)
    f = lambda x: cr.log_softmax(cr.outer(x, x) * 0.3, axis=-1) + cr.cumsum(x)
    assert np.allclose(jacfwd(f)(x), jacrev(f)(x))


def test_several_argnums_and_pytree_output():
    def f(x, y):
        return {"p": x * y, "s": (x * x).sum() + y[0]}

    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    for jac in (jacfwd, jacrev):
        J = jac(f, argnums=(0, 1))(x, y)
        assert np.allclose(J["p"][0], np.diag(y)) and np.allclose(J["p"][1], np.diag(x))
        assert np.allclose(J["s"][0], 2 * x) and np.allclose(J["s"][1], [1.0, 0.0])


def test_pytree_input():
    p = {"w": np.array([1.0, 2.0]), "b": 0.5}
    J = jacrev(lambda p: p["w"] * p["b"])(p)
    assert np.allclose(J["w"], 0.5 * np.eye(2)) and np.allclose(J["b"], [1.0, 2.0])
    J2 = jacfwd(lambda p: p["w"] * p["b"])(p)
    assert np.allclose(J2["w"], J["w"]) and np.allclose(J2["b"], J["b"])


def test_types_and_dtypes():
    J = jacfwd(lambda x: x * 2)(cr.tensor(np.ones(2, np.float32)))
    assert isinstance(J, cr.Tensor) and J.dtype == np.float32
    J = jacrev(lambda x: x * 2)(np.ones(2, np.float32))
    assert isinstance(J, np.ndarray) and J.dtype == np.float32


class NoJvp(Function):
    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        return 2 * g


def test_auto_picks_forward_when_inputs_are_fewer():
    # a Function without jvp works only in reverse mode: that reveals which mode "auto" chose
    many_out = lambda x: NoJvp.apply(x) * cr.ones(5)
    with pytest.raises(NotImplementedError, match="NoJvp"):
        jacobian(many_out)(np.ones(1))
    few_out = lambda x: NoJvp.apply(x).sum()
    assert np.allclose(jacobian(few_out)(np.ones(3)), [2.0, 2.0, 2.0])


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown mode 'sideways'.*'auto', 'forward' or 'reverse'"):
        jacobian(lambda x: x, mode="sideways")


def test_has_aux():
    J, aux = jacfwd(lambda x: (x * 3, "a"), has_aux=True)(np.ones(2))
    assert np.allclose(J, 3 * np.eye(2)) and aux == "a"
    J, aux = jacrev(lambda x: (x * 3, x.sum()), has_aux=True)(np.ones(2))
    assert np.allclose(J, 3 * np.eye(2)) and float(aux) == 2.0


@pytest.mark.parametrize("n", [1, 3, 6])
def test_hessian_of_quadratic(n):
    rng = np.random.default_rng(n)
    A = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    H = hessian(lambda x: x @ cr.tensor(A) @ x + cr.tensor(b) @ x)(rng.standard_normal(n))
    assert H.shape == (n, n) and np.allclose(H, A + A.T)


def test_hessian_of_matrix_input_and_argnums():
    x = np.random.default_rng(3).standard_normal((2, 2))
    H = hessian(lambda x: (x ** 3).sum())(x)
    assert H.shape == (2, 2, 2, 2)
    assert np.allclose(H.reshape(4, 4), np.diag(6 * x.ravel()))
    Hy = hessian(lambda x, y: (x * y * y).sum(), argnums=1)(np.ones(2), np.array([1.0, 2.0]))
    assert np.allclose(Hy, 2 * np.eye(2))


def test_hvp_matches_hessian_times_vector():
    rng = np.random.default_rng(4)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: (cr.tanh(x) * cr.sin(x[::-1])).sum()
    (g,), (hv,) = hvp(f, (x,), (v,))
    assert np.allclose(hv, hessian(f)(x) @ v)
    assert np.allclose(g, jacrev(f)(x))


def test_hvp_several_primals_tuples():
    f = lambda x, y: (x * x * y).sum()
    (gx, gy), (hx, hy) = hvp(f, (np.array([1.0, 2.0]), np.array([3.0, 4.0])), (np.ones(2), np.zeros(2)))
    assert np.allclose(gx, [6.0, 16.0]) and np.allclose(gy, [1.0, 4.0])
    assert np.allclose(hx, [6.0, 8.0]) and np.allclose(hy, [2.0, 4.0])


@contextlib.contextmanager
def recorded_shapes():
    """Record the shape of every array any registered primitive produces."""
    from chainrule.core import batching

    prims = list(REGISTRY.values()) + [batching.moveaxis_p, batching.take_p, batching.put_p, batching.stack_p]
    shapes = []
    saved = {p: p.impl for p in prims}

    def wrap(impl):
        def recording(*a, **k):
            out = impl(*a, **k)
            shapes.append(np.shape(out))
            return out

        return recording

    try:
        for p in prims:
            p.impl = wrap(p.impl)
        yield shapes
    finally:
        for p, impl in saved.items():
            p.impl = impl


def test_hvp_never_forms_the_hessian():
    counts = []
    for n in (37, 53):
        rng = np.random.default_rng(n)
        W = cr.tensor(rng.standard_normal((n, n)))
        f = lambda x, W=W: cr.tanh(W @ x).sum()
        with recorded_shapes() as shapes:
            hvp(f, (rng.standard_normal(n),), (rng.standard_normal(n),))
        # the only (n, n) arrays are Wᵀ (a view, in the matmul rule), never n columns of a Hessian
        assert shapes.count((n, n)) <= 2 and all(len(s) <= 2 for s in shapes)
        counts.append(len(shapes))
    assert counts[0] == counts[1]  # a constant number of operations, independent of n: no loop over columns


def test_hvp_never_forms_the_hessian_strict():
    # no array with n² entries at all when W is not square in n (here W is (m, n), m != n)
    n, m = 41, 7
    rng = np.random.default_rng(0)
    W = cr.tensor(rng.standard_normal((m, n)))
    with recorded_shapes() as shapes:
        hvp(lambda x: cr.tanh(W @ x).sum(), (rng.standard_normal(n),), (rng.standard_normal(n),))
    assert max(np.prod(s) for s in shapes) < n * n


# ---- auto runs f once; chunked bases give identical results ---------------------------------------------
def _counted(f):
    calls = []

    def g(*args):
        calls.append(1)
        return f(*args)

    return g, calls


@pytest.mark.parametrize("n_in,n_out", [(2, 7), (7, 2), (3, 3)])
def test_auto_runs_f_once(n_in, n_out):
    A = np.random.default_rng(n_in).standard_normal((n_out, n_in))
    g, calls = _counted(lambda x: cr.tanh(cr.tensor(A) @ x) * cr.exp(x[0]))
    x = np.linspace(0.1, 0.5, n_in)
    J = jacobian(g)(x)
    assert len(calls) == 1
    assert np.allclose(J, jacfwd(g)(x)) and np.allclose(J, jacrev(g)(x))


def test_auto_forward_over_the_recorded_evaluation_composes():
    # fewer inputs than outputs: auto pushes tangents through what f recorded; that must stay differentiable
    f = lambda x: cr.concatenate([cr.softmax(x * x[::-1]), cr.exp(x) * x.sum(), cr.cumsum(cr.sin(x))])
    x = np.array([0.3, -0.4])
    assert np.allclose(grad(lambda z: (jacobian(f)(z) ** 2).sum())(x), grad(lambda z: (jacrev(f)(z) ** 2).sum())(x))
    H = jacfwd(jacfwd(f))(x)
    assert np.allclose(jacrev(jacobian(f))(x), H)
    assert np.allclose(jacfwd(jacobian(f))(x), H)  # inside forward mode auto uses reverse mode: same values
    inner = lambda z: grad(lambda y: (cr.sin(y) * z).sum())(z) * cr.ones((3, 1))  # an inner grad in f
    assert np.allclose(jacobian(inner)(x), jacrev(inner)(x))
    with_jvp = lambda z: jvp(lambda y: cr.sin(y) * y, (z,), (np.ones(2),))[1] * cr.ones((3, 1))
    assert np.allclose(jacobian(with_jvp)(x), jacfwd(with_jvp)(x))


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 100])
def test_chunked_bases_give_identical_results(chunk):
    W = np.random.default_rng(5).standard_normal((4, 5))
    f = lambda x, y: {"a": cr.tanh(cr.tensor(W) @ x) * y[0], "b": cr.softmax(x) * y.sum()}
    x, y = np.linspace(-1, 1, 5), np.array([0.5, 2.0])
    for jac in (jacfwd, jacrev):
        full = jac(f, argnums=(0, 1))(x, y)
        part = jac(f, argnums=(0, 1), chunk_size=chunk)(x, y)
        for key in ("a", "b"):
            for k in range(2):
                assert np.array_equal(full[key][k], part[key][k])
    full = jacobian(lambda x: cr.tanh(x) * x[:, None], chunk_size=chunk)(x)
    assert np.array_equal(full, jacobian(lambda x: cr.tanh(x) * x[:, None])(x))
    H = hessian(lambda x: (cr.tanh(x) * x[::-1]).sum(), chunk_size=chunk)(x)
    assert np.array_equal(H, hessian(lambda x: (cr.tanh(x) * x[::-1]).sum())(x))


def test_the_basis_budget_splits_a_large_jacobian(monkeypatch):
    import sys

    jac_module = sys.modules["chainrule.transforms.jacobian"]  # the package's attribute is the function
    monkeypatch.setattr(jac_module, "BASIS_BUDGET", 40)  # 40 entries: chunks of 40 // 10 = 4 basis vectors
    x = np.linspace(0.1, 1.0, 10)
    f, calls = _counted(lambda x: cr.sin(x) * x.sum())
    J = jacfwd(f)(x)
    assert len(calls) == 3  # forward mode runs f once per chunk: 4 + 4 + 2 columns
    expected = np.diag(np.cos(x) * x.sum()) + np.sin(x)[:, None]
    assert np.allclose(J, expected)
    calls.clear()
    assert np.allclose(jacrev(f)(x), expected) and len(calls) == 1  # reverse mode pulls back the chunks in turn
    with pytest.raises(ValueError, match="jacrev: chunk_size must be a positive int"):
        jacrev(f, chunk_size=0)(x)


# ---- errors name the transform the user called ---------------------------------------------------------
def test_hessian_and_hvp_errors_name_themselves():
    with pytest.raises(ValueError, match=r"^hessian: argnums=2 is out of range"):
        hessian(lambda x: (x * x).sum(), argnums=2)(np.ones(2))
    with pytest.raises(TypeError, match=r"^hessian: argument 0 has dtype int64"):
        hessian(lambda x: (x * x).sum())(np.arange(2))
    with pytest.raises(TypeError, match=r"^hessian: the function's output has dtype"):
        hessian(lambda x: cr.argmax(x))(np.ones(2))
    with pytest.raises(ValueError, match=r"^hvp: vector leaf 0 has shape \(3,\) but its primal has shape \(2,\)"):
        hvp(lambda x: (x * x).sum(), (np.ones(2),), (np.ones(3),))
    with pytest.raises(TypeError, match=r"^hvp: primal leaf 0 has dtype int64"):
        hvp(lambda x: (x * x).sum(), (np.arange(2),), (np.ones(2),))
    with pytest.raises(TypeError, match=r"^hvp: the output must be a scalar \(shape \(\)\), but it has shape \(2,\)"):
        hvp(lambda x: x * x, (np.ones(2),), (np.ones(2),))
    with pytest.raises(ValueError, match=r"^jacobian: argnums=1 is out of range"):
        jacobian(lambda x: x, mode="forward", argnums=1)(np.ones(2))
