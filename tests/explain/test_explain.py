"""cr.explain: its numbers equal the notes' closed forms and the engine's backward; its rows and its table."""

import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import primitive
from chainrule.explain import Explanation, bar, dot, explain, format_value, to_ascii


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


# ---- notation and formatting -----------------------------------------------------------------
def test_notation_helpers():
    assert bar("v3") == "v\u03043" and bar("x") == "x\u0304" and dot("v12") == "v\u030712"
    assert to_ascii("v̄3 = v̄5 · ∂v5/∂v3") == "v3_bar = v5_bar * dv5/dv3"
    assert to_ascii(bar("lam")) == "lam_bar" and to_ascii("ḟ = v̇5") == "f_dot = v5_dot"
    text = explain(lambda x1, x2: x1 * x2 + cr.sin(x2), 2.0, 5.0).to_text(ascii=True)
    assert text.isascii() and "v2_bar = v3_bar * dv3/dv2 + v4_bar * dv4/dv2" in text


def test_format_value():
    assert format_value(np.float64(-0.0)) == "0"
    assert format_value(2.5) == "2.5"
    assert format_value(np.array([[1.0, 2.0], [3.0, 4.0]])) == "(2, 2) [[1, 2], [3, 4]]"
    assert format_value(np.array([1.0, 2.0]), shape=False) == "[1, 2]"
    assert format_value(np.arange(100.0)) == "(100,) array in [0, 99]"
    assert format_value(np.pi, precision=3) == "3.14"


def test_explanation_object():
    ex = explain(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
    assert isinstance(ex, Explanation) and "reverse mode" in repr(ex)
    assert ex.row("x").name == "v1" and ex.row("v4").expr == "v1 + v2"
    with pytest.raises(KeyError):
        ex.row("nope")


def test_writes_into_a_tensor_are_followed():
    def f(x):
        y = x * 2.0
        y[0] = 5.0  # rebinds y to a new node: the trace keeps the values of the call
        return cr.sum(y * x)

    ex = explain(f, np.array([1.0, 3.0]))
    assert [r.op for r in ex.forward if r.kind == "operation"] == ["multiply", "index_update", "multiply", "sum"]
    x = cr.tensor([1.0, 3.0], requires_grad=True)
    f(x).backward()
    np.testing.assert_allclose(ex.gradients[0].value, x.grad.data)
    np.testing.assert_allclose(ex.row("v2").value, [2.0, 6.0])  # the value before the write


def test_writes_show_their_index_in_the_table_and_the_pictures():
    def g(x):
        t = cr.zeros(4)
        t[0] = x
        t[1:3] = x * 2.0
        t[np.array([0, 3])] = t[np.array([0, 3])] + 1.0
        return cr.sum(t)

    ex = explain(g, 2.0)
    writes = [r.expr for r in ex.forward if r.op == "index_update"]
    assert writes == ["setitem(c1, [0], v1)", "setitem(v2, [1:3], v3)", "setitem(v4, [[0,3]], v6)"]
    text = str(ex)
    assert "index_update" not in text and "setitem(v̄4, [1:3], 0)" in text  # x̄: the overwritten entries get 0
    assert "sum(v̄4[1:3])" in text  # v̄ of a number written into a slice: the slice's adjoints summed
    assert "setitem(v2, [1:3], v3)" in cr.viz.to_dot(ex)
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = w * 1.0
    t[0:2] = 5.0
    assert "setitem([0:2])" in cr.viz.to_dot(cr.sum(t))  # a Tensor's graph: the operands are its edges


def test_tables_stay_readable_and_linear_in_size_with_many_branches():
    def fan(n):
        return lambda x: sum(cr.sin(x * i) for i in range(1, n))

    sizes = {}
    for n in (100, 400):
        ex = explain(fan(n), 1.0)
        text = str(ex)
        sizes[n] = len(text)
        row = next(line for line in text.splitlines() if line.startswith("  v̄1 = "))
        assert "…" in row and f"({n - 1} terms)" in row and len(row) < 300  # the long sum, abbreviated
        widest_other = max(len(line) for line in text.splitlines() if not line.startswith("  v̄1 = "))
        assert widest_other < 120  # no row is padded to the long sum's width
        assert len(ex.backward[-1].terms) == n - 1 and ex.backward[-1].expr.count(" + ") == n - 2  # data: all
        assert " + ... + " in ex.to_text(ascii=True)  # ASCII spells … as ...
    assert sizes[400] < 4.5 * sizes[100]  # linear in the number of operations (was quadratic: 58 MB at 1,000)


def test_an_output_only_a_zero_derivative_step_away_says_so():
    for f in (cr.sign, lambda x: cr.sign(x * 2.0), lambda x: cr.floor(x) + 0.0 * cr.round(x)):
        with pytest.raises(ValueError) as refused:
            explain(f, 2.0)
        message = str(refused.value)
        assert "sign" in message and "derivative is 0" in message and "documented choice" in message
        assert float(cr.grad(lambda x, f=f: cr.sum(f(x)))(2.0)) == 0.0  # what cr.grad gives, as the message says


def test_convolution_and_pooling_show_their_arguments_as_the_public_call_takes_them():
    F = cr.nn.functional
    x = np.arange(16.0).reshape(1, 1, 4, 4)

    def calls(f):
        return [r.expr for r in explain(f, x).forward if r.op in ("im2col", "max_pool2d")]

    assert calls(lambda x: cr.sum(F.max_pool2d(F.conv2d(x, np.ones((1, 1, 2, 2))), 2))) == [
        "im2col(v1, kernel_size=2)",
        "max_pool2d(v4, kernel_size=2)",
    ]  # no padding=((0, 0), (0, 0)), no default stride
    assert calls(lambda x: cr.sum(F.max_pool2d(F.conv2d(x, np.ones((1, 1, 3, 3)), padding=1, stride=(1, 2)), 2,
                                               stride=1, padding=(1, 0)))) == [
        "im2col(v1, kernel_size=3, stride=(1, 2), padding=1)",
        "max_pool2d(v4, kernel_size=2, stride=1, padding=(1, 0))",
    ]


# ---- nn.functional, None arguments, Modules ----------------------------------------------------
F = cr.nn.functional
LOGITS = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
LABELS = np.array([1, 2])


def engine_grads(f, *args):
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    f(*ts).backward()
    return [t.grad.data for t in ts]


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda z: F.cross_entropy(z, LABELS), (LOGITS,)),  # a None class weight among the operands
        (lambda z: F.cross_entropy(z, LABELS, reduction="sum"), (LOGITS,)),
        (lambda z: F.nll_loss(F.log_softmax(z), LABELS), (LOGITS,)),
        (lambda z: F.mse_loss(z, np.ones((2, 3))), (LOGITS,)),
        (lambda p: F.binary_cross_entropy(p, np.array([0.0, 1.0])), (np.array([0.3, 0.8]),)),
        (lambda z: F.cross_entropy(z, np.array([1])), (np.array([[1.0, 2.0, 3.0]]),)),
    ],
    ids=["cross_entropy", "cross_entropy-sum", "nll_loss", "mse_loss", "binary_cross_entropy", "one-row"],
)
def test_losses_of_nn_functional_in_both_modes(f, args):
    ex = explain(f, *args)
    for g, e in zip(ex.gradients, engine_grads(f, *args)):
        np.testing.assert_allclose(g.value, e, rtol=1e-12)
    text = str(ex)
    assert "None" not in text and "factor" not in text and "reduce=" not in text
    fw = explain(f, *args, mode="forward", direction=(np.ones_like(args[0]),))
    assert float(fw.tangent) == pytest.approx(float(np.sum(engine_grads(f, *args)[0])))


def test_the_reduction_of_a_loss_is_shown_by_its_public_name():
    assert "cross_entropy(v1, c1)  " in str(explain(lambda z: F.cross_entropy(z, LABELS), LOGITS))
    summed = explain(lambda z: F.cross_entropy(z, LABELS, reduction="sum"), LOGITS)
    assert "cross_entropy(v1, c1, reduction='sum')" in str(summed)


def test_a_linear_layer_without_bias_and_the_names_of_module_parameters():
    lin = cr.nn.Linear(3, 2, bias=False)
    for mode in ("reverse", "forward"):
        ex = explain(lambda x: cr.sum(lin(x)), np.ones(3), mode=mode)
        assert ex.row("lin.weight").kind == "parameter" and ex.row("v3").expr == "linear(v1, v2)"
        assert ex.row("v3").inputs == ("v1", "v2")  # the missing bias is no operand
    np.testing.assert_allclose(explain(lambda x: cr.sum(lin(x)), np.ones(3)).gradients[1].value, np.ones((2, 3)))
    net = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.Tanh(), cr.nn.Linear(2, 1))
    ex = explain(lambda x: cr.sum(net(x)), np.ones(2))
    assert [g.label for g in ex.gradients] == ["x", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]
    text = str(ex)
    assert text.startswith("f(x), reverse mode\nparameters: net.0.weight, net.0.bias, net.2.weight, net.2.bias\n")
    assert "∂f/∂(net.0.weight) = v̄2" in text
    own = explain(net, np.ones(2))  # the Module itself: its own dotted names
    assert own.function == "Sequential" and [g.label for g in own.gradients][1:3] == ["0.weight", "0.bias"]


# ---- what the rows say: public names, no internals ---------------------------------------------
class Cube(cr.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


@pytest.mark.parametrize(
    "f, x, expr",
    [
        (lambda x: Cube.apply(x), 2.0, "Cube(v1)"),
        (cr.checkpoint(lambda x: cr.sin(x) * 2), 2.0, "checkpoint(<lambda>)(v1)"),
        (lambda x: cr.concatenate([x, x], axis=0), np.ones(2), "concatenate([v1, v1])"),
        (lambda x: cr.stack([x, x], axis=1), np.ones(2), "stack([v1, v1], axis=1)"),
        (lambda x: cr.softmax(x, axis=1), np.ones((2, 2)), "softmax(v1)"),
        (lambda x: cr.softmax(x, axis=0), np.ones((2, 2)), "softmax(v1, axis=0)"),
        (lambda x: cr.norm(x), np.ones(2), "norm(v1)"),
        (lambda x: cr.norm(x, ord=3), np.ones(2), "norm(v1, ord=3)"),
        (lambda x: cr.cumsum(x), np.ones(2), "cumsum(v1)"),
        (lambda x: cr.sum(x), np.ones((2, 2)), "sum(v1)"),
        (lambda x: cr.sum(x, axis=1, keepdims=True), np.ones((2, 2)), "sum(v1, axis=1, keepdims=True)"),
        (lambda x: cr.mean(x, axis=0), np.ones((2, 2)), "mean(v1, axis=0)"),
        (lambda x: x.reshape(4), np.ones((2, 2)), "reshape(v1, 4)"),
        (lambda x: cr.clip(x, -1.0, 0.5), np.ones(2), "clip(v1, -1, 0.5)"),
        (lambda x: cr.broadcast_to(x, (3, 2)), np.ones(2), "broadcast_to(v1, (3, 2))"),
        (lambda x: cr.einsum("ij,j->i", x, x[0]), np.ones((2, 2)), "einsum('ij,j->i', v1, v2)"),
    ],
)
def test_operations_read_as_the_user_writes_them(f, x, expr):
    ex = explain(f, x)
    assert ex.forward[-1].expr == expr
    assert "object at 0x" not in str(ex) and "bounds" not in str(ex) and "axes=" not in str(ex)


def test_a_cumsum_of_a_vector_has_no_reshape_step():
    ex = explain(lambda x: cr.sum(cr.cumsum(x)), np.array([1.0, 2.0]))
    assert [r.op for r in ex.forward if r.kind == "operation"] == ["cumsum", "sum"]
    np.testing.assert_allclose(ex.gradients[0].value, [2.0, 1.0])
    flat = explain(lambda x: cr.sum(cr.cumsum(x)), np.ones((2, 2)))  # a real ravel stays a step
    assert [r.expr for r in flat.forward[1:3]] == ["reshape(v1, -1)", "cumsum(v2)"]


# ---- the formula agrees with the number next to it -----------------------------------------------
def test_ties_in_maximum_show_the_even_split():
    ex = explain(lambda x, y: cr.maximum(x, y), 2.0, 2.0)
    term = backward_of(ex, "v1").terms[0]
    assert term.rule == "[v1 > v2] + [v1 = v2]/2" and float(term.local) == 0.5
    assert float(backward_of(explain(lambda x, y: cr.minimum(x, y), 1.0, 2.0), "v1").adjoint) == 1.0


@pytest.mark.parametrize(
    "p, expr, rule",
    [
        (2.0, "v1²", "2·v1"),
        (3.0, "v1³", "3·v1²"),
        (2.0000001, "v1^2.0000001", "2.0000001·v1^(2.0000001 - 1)"),
        (1e-7, "v1^1e-07", "1e-07·v1^(1e-07 - 1)"),
        (0.5, "v1^0.5", "0.5·v1^(-0.5)"),
        (-1.0, "v1^(-1)", "(-1)·v1^(-2)"),
    ],
)
def test_powers_are_written_with_their_exact_exponent(p, expr, rule):
    ex = explain(lambda x: x**p, 3.0)
    term = backward_of(ex, "v1").terms[0]
    assert ex.forward[1].expr == expr and term.rule == rule
    assert float(term.local) == pytest.approx(p * 3.0 ** (p - 1), rel=1e-15)


def test_constants_follow_the_precision_and_are_never_rounded_away():
    ex = explain(lambda x: x * 0.123456789012, 3.0, precision=12)
    assert ex.forward[1].expr == "v1 · 0.123456789012" and ex.constants[0].text == "0.123456789012"
    assert explain(lambda x: x * 0.123456789012, 3.0).constants[0].text == "0.123456789012"  # exact, not 0.123457
    assert explain(lambda x: x * 0.5, 3.0).constants[0].text == "0.5"


def test_complex_inputs_print():
    text = str(explain(lambda x: x * x, 1 + 2j))
    assert "(-3+4j)" in text and "(2+4j)" in text


# ---- names never collide ---------------------------------------------------------------------------
def test_arguments_named_like_variables_get_other_letters():
    ex = explain(lambda v2, v1: v2 * v1, 2.0, 3.0)
    assert ex.letter == "u" and [r.name for r in ex.forward] == ["u1", "u2", "u3"]
    assert float(ex.row("v2").value) == 2.0 and float(ex.adjoint("v1")) == 2.0  # the user's v1 is y
    assert f"∂f/∂v2 = {bar('v2')} = {bar('u1')}  = 3" in str(ex)
    clash = explain(lambda c1: c1 * np.array([1.0, 2.0]), 2.0)
    assert clash.constants[0].name == "k1" and clash.row("c1").name == "v1"


def test_a_function_named_like_an_argument_is_renamed():
    def f(f, v2):
        return f * v2

    ex = explain(f, 1.0, 3.0)
    assert ex.function == "g" and f"∂g/∂f = {bar('f')} = {bar('u1')}" in str(ex)


# ---- ASCII -------------------------------------------------------------------------------------------
def columns(line):
    return [m.start() for m in re.finditer(r"(?<=  )= ", line)]


def test_ascii_tables_stay_aligned():
    ex = explain(lambda x, y: cr.sqrt(x * x + y * y) + x, 3.0, 4.0)
    text = ex.to_text(ascii=True)
    assert text.isascii() and "sqrt(v5)" in text and "sqrtv" not in text
    for section in text.split("\n\n")[1:]:
        rows = [line for line in section.splitlines()[1:] if "= " in line]
        assert len({columns(line)[0] for line in rows}) == 1, section  # the value column lines up
    unicode = ex.to_text()
    assert [len(line) for line in text.splitlines()] != [len(line) for line in unicode.splitlines()]
