"""What cr.explain prints: notation, values, public names in the rows, formulas, names, ASCII tables."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import Explanation, bar, dot, explain, format_value, to_ascii
from tests.core.test_function import Cube  # a cr.Function: its row reads as the user wrote it


def backward_of(ex, name):
    return next(r for r in ex.backward if r.name == name)


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


def test_an_output_only_a_nondifferentiable_step_away_says_so():
    for f in (lambda x: cr.argmax(x * 2.0) * 1.0, lambda x: (x * 2.0 > 1.0) * 1.0):
        with pytest.raises(ValueError) as refused:
            explain(f, np.array([2.0, 3.0]))
        message = str(refused.value)
        assert "argmax" in message and "no derivative" in message and "every gradient is 0" in message


def test_a_zero_derivative_step_is_shown_with_its_zero_partial():
    # sign, floor, round stay on the graph with derivative 0 (PyTorch, JAX): explain shows the 0
    for f in (lambda x: cr.sign(x), lambda x: cr.sign(x * 2.0), lambda x: cr.floor(x) + 0.0 * cr.round(x)):
        e = explain(f, 2.0)
        assert "= 0" in str(e) and float(e.adjoint("x")) == 0.0
        assert float(cr.grad(lambda x, f=f: cr.sum(f(x)))(2.0)) == 0.0


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


# ---- what the rows say: public names, no internals ---------------------------------------------
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
    # the gradient in PyTorch's convention (API.md): conj(2z), not the holomorphic derivative 2z
    assert "(-3+4j)" in text and "(2-4j)" in text


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
