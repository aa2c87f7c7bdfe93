"""cr.explain's numbers: the notes' closed forms, agreement with the engine's backward, inputs, errors."""

import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import primitive
from chainrule.explain import explain


def grads(ex):
    return [float(np.asarray(g.value)) for g in ex.gradients]


def backward_of(ex, name):
    return next(r for r in ex.backward if r.name == name)


# ---- the notes' worked examples ------------------------------------------------------------
def test_x_plus_y_times_z_gives_the_notes_adjoints():
    ex = explain(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
    assert grads(ex) == [-4.0, -4.0, 3.0]
    assert [(r.name, r.expr, float(r.value)) for r in ex.forward[3:]] == [
        ("v4", "v1 + v2", 3.0),
        ("v5", "v4 · v3", -12.0),
    ]
    v3 = backward_of(ex, "v3")
    assert v3.expr == "v̄5 · ∂v5/∂v3"
    (term,) = v3.terms
    assert (term.source, term.rule, float(term.upstream), float(term.local), float(term.value)) == ("v5", "v4", 1, 3, 3)
    assert float(ex.adjoint("v4")) == -4.0 and float(ex.adjoint("z")) == 3.0
    text = str(ex)
    assert "v4 = v1 + v2  = 3" in text
    assert "v̄3 = v̄5 · ∂v5/∂v3  = 1 · 3 = 3" in text
    assert "∂f/∂z = z̄ = v̄3" in text


def test_gradients_add_at_branches():
    ex = explain(lambda x1, x2: x1 * x2 + cr.sin(x2), 2.0, 5.0)
    v2 = backward_of(ex, "v2")
    assert [t.source for t in v2.terms] == ["v3", "v4"]
    assert [t.rule for t in v2.terms] == ["v1", "cos(v2)"]
    assert float(v2.adjoint) == pytest.approx(2 + math.cos(5))
    assert v2.expr == "v̄3 · ∂v3/∂v2 + v̄4 · ∂v4/∂v2"
    assert "1 · 2 + 1 · 0.283662 = 2.28366" in str(ex)
    assert grads(ex) == pytest.approx([5.0, 2 + math.cos(5)])


def test_dag_example_with_numpy_functions():
    ex = explain(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0)
    assert grads(ex) == pytest.approx([1 / 2 + 5, 2 - math.cos(5)])
    assert [r.op for r in ex.forward if r.kind == "operation"] == ["log", "multiply", "add", "sin", "subtract"]


def test_euclidean_norm_example():
    def ell(x, y):
        u = x**2
        w = y**2
        r = u + w
        return cr.sqrt(r)

    ex = explain(ell, 3.0, 4.0)
    assert float(ex.value) == 5.0
    assert grads(ex) == pytest.approx([0.6, 0.8])
    assert [r.expr for r in ex.forward[2:]] == ["v1²", "v2²", "v3 + v4", "sqrt(v5)"]
    assert backward_of(ex, "v5").terms[0].rule == "1/(2·√v5)"


def test_regularised_logistic_unit_matches_the_closed_form():
    def L_reg(w, b, x, t, lam):
        z = w * x + b
        y = cr.sigmoid(z)
        return 0.5 * (y - t) ** 2 + lam * (0.5 * w**2)

    w, b, x, t, lam = 0.7, -0.3, 1.5, 1.0, 0.1
    ex = explain(L_reg, w, b, x, t, lam, argnums=(0, 1))
    s = 1 / (1 + math.exp(-(w * x + b)))
    assert grads(ex) == pytest.approx([(s - t) * s * (1 - s) * x + lam * w, (s - t) * s * (1 - s)])
    assert [g.label for g in ex.gradients] == ["w", "b"]
    assert [r.kind for r in ex.forward[:5]] == ["input", "input", "data", "data", "data"]
    w_row = backward_of(ex, "v1")  # w̄ = z̄ x + R̄ w: two children
    assert len(w_row.terms) == 2


def test_exp_over_square_derivative():
    for x in (0.5, 3.0):
        ex = explain(lambda x: cr.exp(x) / x**2, x)
        assert grads(ex)[0] == pytest.approx(math.exp(x) * (x - 2) / x**3)
        fw = explain(lambda x: cr.exp(x) / x**2, x, mode="forward")
        assert float(fw.tangent) == pytest.approx(math.exp(x) * (x - 2) / x**3)


def two_layer(x, W1, b1, W2, b2, t):
    z = W1 @ x + b1
    h = cr.sigmoid(z)
    y = W2 @ h + b2
    return 0.5 * cr.sum((t - y) ** 2)


def test_two_layer_net_matches_the_vectorised_backward():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=3), rng.normal(size=2)
    W1, b1, W2, b2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)), rng.normal(size=2)
    ex = explain(two_layer, x, W1, b1, W2, b2, t, argnums=(1, 2, 3, 4))
    z = W1 @ x + b1
    h = 1 / (1 + np.exp(-z))
    y = W2 @ h + b2
    y_bar = y - t
    z_bar = (W2.T @ y_bar) * h * (1 - h)
    expected = [np.outer(z_bar, x), z_bar, np.outer(y_bar, h), y_bar]
    for g, e in zip(ex.gradients, expected):
        np.testing.assert_allclose(g.value, e, rtol=1e-12)
    rules = [t.rule for r in ex.backward for t in r.terms if t.kind == "vjp"]
    assert "v̄10 @ v9ᵀ" in rules and "v4ᵀ @ v̄10" in rules  # W̄2 = ȳ hᵀ and h̄ = W2ᵀ ȳ
    sig = next(t for r in ex.backward for t in r.terms if t.partial == "∂v9/∂v8")
    assert sig.kind == "elementwise" and "∘" in backward_of(ex, "v8").expr  # z̄ = h̄ ∘ σ'(z)


def test_forward_and_reverse_on_wide_and_tall_functions():
    x = np.array([0.5, -1.0, 2.0])
    wide = lambda x: cr.sum(cr.sin(x) * x)
    expected = np.cos(x) * x + np.sin(x)
    np.testing.assert_allclose(explain(wide, x).gradients[0].value, expected)
    columns = [float(explain(wide, x, mode="forward", direction=(e,)).tangent) for e in np.eye(3)]
    np.testing.assert_allclose(columns, expected)
    tall = lambda s: cr.stack([s, s**2, cr.exp(s)])
    np.testing.assert_allclose(explain(tall, 2.0, mode="forward").tangent, [1, 4, math.exp(2)])
    rows = [float(explain(tall, 2.0, seed=e).gradients[0].value) for e in np.eye(3)]
    np.testing.assert_allclose(rows, [1, 4, math.exp(2)])


# ---- agreement with the engine ---------------------------------------------------------------
def test_matches_backward_on_numpy_code_with_broadcasting_and_fan_out():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=4)

    def f(a, b):
        h = np.tanh(a * b + 1.0)
        return np.sum(h * h) + np.mean(np.exp(-b))

    ex = explain(f, a, b)
    ta, tb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    f(ta, tb).backward()
    np.testing.assert_allclose(ex.gradients[0].value, ta.grad.data, rtol=1e-12)
    np.testing.assert_allclose(ex.gradients[1].value, tb.grad.data, rtol=1e-12)
    assert float(ex.value) == pytest.approx(float(f(a, b)))


def test_forward_mode_matches_the_directional_derivative():
    rng = np.random.default_rng(2)
    a, v = rng.normal(size=3), rng.normal(size=3)
    f = lambda a, c: cr.sum(cr.sigmoid(a) * a) * c
    ex = explain(f, a, 2.0, mode="forward", direction=(v, None))
    grad = explain(f, a, 2.0).gradients[0].value
    assert float(ex.tangent) == pytest.approx(float(grad @ v))
    assert explain(f, a, 2.0, mode="forward", direction="c").tangent == pytest.approx(float(f(a, 1.0)))
    assert explain(f, a, 2.0, mode="forward", direction=1).tangent == pytest.approx(float(f(a, 1.0)))
    assert ex.backward == () and ex.gradients == ()
    assert all(r.tangent is not None for r in ex.forward)


def test_forward_mode_table_shows_the_product_rule():
    ex = explain(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0, mode="forward")
    text = str(ex)
    assert "v̇4 = v̇1 + v̇2 = 1 + 0 = 1" in text
    assert "v̇5 = v3 · v̇4 + v4 · v̇3 = (-4) · 1 + 3 · 0 = -4" in text
    assert "v̇5 = -4 = ∂f/∂x" in text


# ---- inputs, parameters, data ----------------------------------------------------------------
def test_captured_tensors_are_parameters_and_user_tensors_are_untouched():
    W = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x0 = cr.tensor([0.1, 0.2], requires_grad=True)

    def f(x):
        return cr.sum(cr.tanh(W @ x))

    ex = explain(f, x0)
    assert [(r.label, r.kind) for r in ex.forward[:2]] == [("x", "input"), ("W", "parameter")]
    expected = (1 - np.tanh(W.data @ x0.data) ** 2)[:, None] * x0.data[None, :]
    np.testing.assert_allclose(ex.gradients[1].value, expected)
    assert W.grad is None and x0.grad is None and x0.is_leaf


def test_a_parameter_argument_is_styled_as_a_parameter():
    class Weight(cr.nn.Parameter):  # a subclass is a parameter too: the class is checked, not its name
        pass

    class Parameter(cr.Tensor):  # ... and a class that is merely called Parameter is not one
        pass

    for cls, kind in ((cr.nn.Parameter, "parameter"), (Weight, "parameter"), (Parameter, "input")):
        p = cls(np.array([1.0, 2.0]), requires_grad=True)
        ex = explain(lambda p, x: cr.sum(p * x), p, 3.0)
        assert ex.forward[0].kind == kind, cls


def test_unused_input_identity_and_integers():
    ex = explain(lambda x, y: x * 2, 3, 7)
    assert grads(ex) == [2.0, 0.0]
    assert "(not used by f)" in str(ex)
    ident = explain(lambda x: x, 4.0)
    assert grads(ident) == [1.0] and ident.output == "v1"


def test_non_scalar_output_uses_ones_or_the_given_seed():
    f = lambda x: x * x
    np.testing.assert_allclose(explain(f, np.array([1.0, 2.0])).gradients[0].value, [2.0, 4.0])
    np.testing.assert_allclose(explain(f, np.array([1.0, 2.0]), seed=[0.0, 1.0]).gradients[0].value, [0.0, 4.0])
    assert "the given seed" in str(explain(f, np.array([1.0, 2.0]), seed=[0.0, 1.0]))


def test_float32_is_kept():
    ex = explain(lambda x: cr.sum(x * 2.0), np.ones(3, dtype=np.float32))
    assert ex.forward[1].value.dtype == np.float32 and ex.gradients[0].value.dtype == np.float32


def test_constants_are_listed():
    c = np.array([1.0, 2.0, 3.0])
    ex = explain(lambda x: cr.sum(x * c) + 1.5, np.ones(3))
    assert [k.text for k in ex.constants] == ["c1", "1.5"]
    assert ex.forward[1].inputs == ("v1", "c1")
    assert re.search(r"\n  c1 += \(3,\) \[1, 2, 3\] +\(constant\)\n", str(ex))  # in the value column


# ---- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: explain(3.0, 1.0), TypeError, "function"),
        (lambda: explain(lambda x: x), TypeError, "arguments"),
        (lambda: explain(lambda x: (x, x), 1.0), TypeError, "one Tensor"),
        (lambda: explain(lambda x: cr.tensor(2.0), 1.0), ValueError, "does not depend"),
        (lambda: explain(lambda x: x, 1.0, mode="sideways"), ValueError, "mode"),
        (lambda: explain(lambda x: x, 1.0, argnums=3), ValueError, "argnums"),
        (
            lambda: explain(lambda x, y: x * y, 1.0, 2.0, argnums=0, mode="forward", direction="y"),
            ValueError,
            "not a differentiated",
        ),
        (lambda: explain(lambda x: x, 1.0, mode="forward", direction="q"), ValueError, "not an argument"),
        (lambda: explain(lambda x: x, {"a": 1}), TypeError, "numbers, arrays"),
        (lambda: explain(lambda x: x, 1.0, names=["a", "b"]), ValueError, "names"),
        (lambda: explain(lambda x: x * 2, np.ones(2), seed=[1.0, 2.0, 3.0]), ValueError, "seed"),
    ],
)
def test_errors_name_the_problem(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_recording_stops_even_when_f_fails():
    def bad(x):
        x * 2
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        explain(bad, 1.0)
    assert not primitive.is_tracing()
    explain(lambda x: x * 2, 1.0)
    assert not primitive.is_tracing()
