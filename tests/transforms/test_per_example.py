"""Per-example gradients: vmap(grad(loss)) with integer labels and batched indices; randomness; functional_call."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

RNG = np.random.default_rng(0)
W = cr.tensor(RNG.standard_normal((4, 3)))
X = cr.tensor(RNG.standard_normal((5, 2, 4)))
Y = cr.tensor(np.array([[0, 2], [1, 1], [0, -100], [2, 2], [1, 0]]))
CW = np.array([0.5, 2.0, 1.0])


def _loop(f, *args):
    """The reference: one cr.grad per example, a Python loop."""
    return np.stack([cr.grad(f)(args[0], *(a[i] for a in args[1:])).data for i in range(len(args[1]))])


@pytest.mark.parametrize("kw", [{}, {"weight": CW}, {"reduction": "sum"}, {"reduction": "none"},
                                {"label_smoothing": 0.1}, {"weight": CW, "label_smoothing": 0.2}])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_per_example_gradients_of_losses_with_integer_labels(loss, kw):
    if loss == "nll_loss" and "label_smoothing" in kw:
        pytest.skip("nll_loss has no label_smoothing")

    def f(w, x, y):
        z = x @ w
        out = F.cross_entropy(z, y, **kw) if loss == "cross_entropy" else F.nll_loss(F.log_softmax(z, axis=-1), y, **kw)
        return out.sum()

    got = cr.vmap(cr.grad(f), in_axes=(None, 0, 0))(W, X, Y).data
    ref = _loop(f, W, X, Y)
    assert np.abs(ref).max() > 0.1
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    values = cr.vmap(f, in_axes=(None, 0, 0))(W, X, Y).data
    np.testing.assert_allclose(values, [f(W, X[i], Y[i]).item() for i in range(5)], rtol=1e-12)


def test_batched_labels_out_of_range_raise():
    bad = cr.tensor(np.array([[0, 3], [1, 1], [0, 0], [2, 2], [1, 0]]))
    with pytest.raises(IndexError, match="out of range for 3 classes"):
        cr.vmap(lambda x, y: F.cross_entropy(x @ W, y), in_axes=(0, 0))(X, bad)


@pytest.mark.parametrize("key", ["j", ":, i", "j, i", "j, :, i", "..., i, 2", "1, :, i", ":, i, 1:3"])
def test_batched_integer_indexing_matches_a_loop(key):
    x = RNG.standard_normal((5, 3, 4, 6))
    i_ = RNG.integers(0, 4, (5, 2))
    j_ = RNG.integers(0, 3, (5,))
    f = eval(f"lambda x, i, j: x[{key}]")
    got = cr.vmap(f)(cr.tensor(x), cr.tensor(i_), cr.tensor(j_)).data
    np.testing.assert_array_equal(got, np.stack([f(x[b], i_[b], j_[b]) for b in range(5)]))
    got = cr.vmap(f, in_axes=(None, 0, 0))(cr.tensor(x[0]), cr.tensor(i_), cr.tensor(j_)).data
    np.testing.assert_array_equal(got, np.stack([f(x[0], i_[b], j_[b]) for b in range(5)]))


def test_per_example_gradient_through_batched_indexing():
    def f(w, x, y):
        return -F.log_softmax(x @ w, axis=-1)[y]

    x, y = X.data[:, 0], Y.data[:, 0]
    got = cr.vmap(cr.grad(f), in_axes=(None, 0, 0))(W, cr.tensor(x), cr.tensor(y)).data
    np.testing.assert_allclose(got, _loop(f, W, cr.tensor(x), cr.tensor(y)), rtol=1e-12)


def test_batched_index_under_two_levels():
    x = RNG.standard_normal((2, 3, 5))
    idx = RNG.integers(0, 5, (2, 3))
    got = cr.vmap(cr.vmap(lambda r, i: r[i]))(cr.tensor(x), cr.tensor(idx)).data
    np.testing.assert_array_equal(got, np.take_along_axis(x, idx[..., None], -1)[..., 0])


DRAWS = {
    "randn": lambda r: r + cr.random.randn(3),
    "rand": lambda r: r + cr.random.rand(3),
    "normal": lambda r: r + cr.random.normal(0.0, 1.0, 3),
    "uniform": lambda r: r + cr.random.uniform(size=(3,)),
    "randint": lambda r: r + cr.random.randint(0, 10**6, (3,)),
    "dropout": lambda r: nn.Dropout(0.5)(r + 1.0),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_random_draws_inside_vmap_per_example(name):
    f = DRAWS[name]
    x = cr.zeros((16, 3))
    rows = cr.vmap(f)(x).data
    assert len({tuple(r) for r in rows}) > 2  # "different", the default: independent draws
    rows = cr.vmap(f, randomness="same")(x).data
    assert len({tuple(r) for r in rows}) == 1
    with pytest.raises(RuntimeError, match="randomness='error'"):
        cr.vmap(f, randomness="error")(x)


def test_random_draws_repeat_with_the_seed_and_nest():
    cr.random.seed(3)
    a = cr.vmap(cr.vmap(lambda r: r + cr.random.randn()))(cr.zeros((3, 4))).data
    cr.random.seed(3)
    b = cr.vmap(cr.vmap(lambda r: r + cr.random.randn()))(cr.zeros((3, 4))).data
    np.testing.assert_array_equal(a, b)
    assert len(set(a.ravel())) == 12
    with pytest.raises(ValueError, match="randomness"):
        cr.vmap(lambda r: r, randomness="sometimes")


def test_dropout_statistics_per_example():
    cr.random.seed(0)
    out = cr.vmap(lambda r: F.dropout(r, 0.25))(cr.ones((200, 50))).data
    assert abs((out == 0).mean() - 0.25) < 0.02
    assert set(np.unique(out)) <= {0.0, 1 / 0.75}


def test_functional_call_per_example_gradients():
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, x, y):
        return F.cross_entropy(cr.func.functional_call(model, p, (x[None],)), y[None])

    x, y = X.data[:, 0], Y.data[:, 0]
    got = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, cr.tensor(x), cr.tensor(y))
    for i in range(5):
        model.zero_grad()
        F.cross_entropy(model(cr.tensor(x[i : i + 1])), y[i : i + 1]).backward()
        for name, p in model.named_parameters():
            np.testing.assert_allclose(got[name].data[i], p.grad.data, rtol=1e-10, atol=1e-12)
    assert model[0].weight is dict(model.named_parameters())["0.weight"]  # restored
    assert isinstance(model[0].weight, nn.Parameter)


def test_functional_call_buffers_and_errors():
    bn = nn.BatchNorm1d(2).eval()
    out = cr.func.functional_call(bn, {"running_mean": cr.tensor([1.0, 2.0])}, cr.tensor([[1.0, 2.0]]))
    np.testing.assert_allclose(out.data, [[0.0, 0.0]], atol=1e-4)
    np.testing.assert_array_equal(bn.running_mean.data, [0.0, 0.0])
    with pytest.raises(KeyError, match="names no parameter"):
        cr.func.functional_call(bn, {"nope": cr.tensor(1.0)}, cr.tensor([[1.0, 2.0]]))
    with pytest.raises(KeyError, match="strict"):
        cr.func.functional_call(bn, {}, cr.tensor([[1.0, 2.0]]), strict=True)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev, cr.hessian])
def test_jacobians_see_one_draw(jac):
    # their basis vectors ride a vmap level of their own: one function, one draw of its noise
    cr.random.seed(0)
    noise = cr.random.randn(3).data
    x = cr.tensor([1.0, 2.0, 3.0])
    cr.random.seed(0)
    if jac is cr.hessian:
        got = jac(lambda v: (v * v * cr.random.randn(3)).sum())(x).data
        np.testing.assert_allclose(got, np.diag(2 * noise))
    else:
        np.testing.assert_allclose(jac(lambda v: v * cr.random.randn(3))(x).data, np.diag(noise))
