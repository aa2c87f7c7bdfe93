"""Tests for the CLI's safe expression language: what it computes (its refusals: test_expr_syntax.py)."""

import math

import numpy as np
import pytest

from chainrule.cli.expr import ExpressionError, parse_assignments, parse_expression

FUNCTIONS = {"sin": math.sin, "exp": math.exp, "log": math.log, "sqrt": math.sqrt}


# --------------------------------------------------------------------------- valid input


@pytest.mark.parametrize(
    "source, values, expected",
    [
        ("x1*x2 + sin(x2)", {"x1": 2.0, "x2": 5.0}, 2.0 * 5.0 + math.sin(5.0)),
        ("exp(log(x))", {"x": 3.5}, 3.5),
        ("sqrt(x) ** 2 - x", {"x": 2.0}, 0.0),
        ("-x + +y", {"x": 1.5, "y": 4.0}, 2.5),
        ("(x + 1) / (y - 2)", {"x": 3.0, "y": 4.0}, 2.0),
        ("2 ** -3 * x", {"x": 8.0}, 1.0),
        ("x ** 0.5", {"x": 9.0}, 3.0),
        ("x ** 1000", {"x": 1.0}, 1.0),
        ("2 ** (500 + 500) / 2 ** 1000", {}, 1.0),
        ("1e308 * x", {"x": 0.5}, 5e307),
        ("1000000000000000000 + x", {"x": 0.0}, 1e18),
        ("0x10 + 1_000 + x", {"x": 0.0}, 1016.0),
        ("x ** y ** 2", {"x": 2.0, "y": 2.0}, 16.0),  # right-associative, like Python
        ("(x ** 2) ** 3", {"x": 2.0}, 64.0),
        ("  x + 1  ", {"x": 1.0}, 2.0),  # leading blanks are not an indent error
        ("x  # a trailing comment is harmless", {"x": 7.0}, 7.0),
        ("sin(exp(log(sqrt(x))))", {"x": 4.0}, math.sin(2.0)),
        ("θ * 2", {"θ": 1.25}, 2.5),
        ("3", {}, 3),
    ],
)
def test_valid_expressions_evaluate(source, values, expected):
    assert parse_expression(source, FUNCTIONS).evaluate(values) == pytest.approx(expected)


def test_variables_in_order_of_first_appearance():
    e = parse_expression("b + a*b + sin(c) / a", FUNCTIONS)
    assert e.variables == ("b", "a", "c")
    assert e.source == "b + a*b + sin(c) / a"
    assert parse_expression("2 * 3", FUNCTIONS).variables == ()
    assert "b + a*b" in repr(e)


def test_compatibility_characters_are_folded_like_python_does():
    # The parser turns a full-width x into x; the variable list shows the folded name.
    assert parse_expression("\uff58 + 1", {}).variables == ("x",)


def test_matmul_and_array_values():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([1.0, -1.0])
    out = parse_expression("A @ x + b", {}).evaluate({"A": a, "x": x, "b": np.ones(2)})
    np.testing.assert_allclose(out, a @ x + 1.0)


class Sym:
    """A stand-in for a Tensor: records which operators were applied, in which order."""

    def __init__(self, text):
        self.text = text

    def _bin(self, other, symbol, reflected=False):
        other = other.text if isinstance(other, Sym) else repr(other)
        return Sym(f"({other} {symbol} {self.text})" if reflected else f"({self.text} {symbol} {other})")

    def __add__(self, o):
        return self._bin(o, "+")

    def __radd__(self, o):
        return self._bin(o, "+", True)

    def __sub__(self, o):
        return self._bin(o, "-")

    def __rsub__(self, o):
        return self._bin(o, "-", True)

    def __mul__(self, o):
        return self._bin(o, "*")

    def __rmul__(self, o):
        return self._bin(o, "*", True)

    def __truediv__(self, o):
        return self._bin(o, "/")

    def __rtruediv__(self, o):
        return self._bin(o, "/", True)

    def __pow__(self, o):
        return self._bin(o, "**")

    def __rpow__(self, o):
        return self._bin(o, "**", True)

    def __matmul__(self, o):
        return self._bin(o, "@")

    def __neg__(self):
        return Sym(f"(-{self.text})")

    def __pos__(self):
        return Sym(f"(+{self.text})")


def test_operators_dispatch_to_the_values_like_tensors():
    functions = {"sin": lambda s: Sym(f"sin{s.text}")}
    e = parse_expression("2*x1 - -x2 / 3 + sin(x1 @ x2) ** 2 + +x1", functions)
    out = e.evaluate({"x1": Sym("a"), "x2": Sym("b")})
    assert out.text == "((((2 * a) - ((-b) / 3)) + (sin(a @ b) ** 2)) + (+a))"


def test_functions_are_snapshotted_at_parse_time():
    functions = dict(FUNCTIONS)
    e = parse_expression("sin(x)", functions)
    functions["sin"] = lambda x: "replaced"
    assert e.evaluate({"x": 0.0}) == 0.0


# --------------------------------------------------------------------------- values


def test_missing_values_are_listed():
    e = parse_expression("x1*x2 + y", FUNCTIONS)
    with pytest.raises(ExpressionError, match=r"missing values for variables: x2, y"):
        e.evaluate({"x1": 1.0})
    with pytest.raises(ExpressionError, match=r"missing value for variable: y"):
        e.evaluate({"x1": 1.0, "x2": 2.0})


def test_extra_values_are_refused():
    e = parse_expression("x1 + 1", FUNCTIONS)
    with pytest.raises(ExpressionError, match=r"not in the expression: x2, z \(it uses: x1\)"):
        e.evaluate({"x1": 1.0, "z": 0.0, "x2": 2.0})


def test_arithmetic_errors_name_the_operation_and_column():
    with pytest.raises(ExpressionError, match=r"ZeroDivisionError in / at column 3"):
        parse_expression("x / 0", {}).evaluate({"x": 1.0})
    with pytest.raises(ExpressionError, match=r"OverflowError in \*\* at column 13"):
        parse_expression("(1e200 * x) ** 2", {}).evaluate({"x": 1.0})


def test_other_errors_from_the_values_propagate_unchanged():
    with pytest.raises(TypeError):
        parse_expression("x @ y", {}).evaluate({"x": 1.0, "y": 2.0})


# --------------------------------------------------------------------------- NAME=VALUE arguments


def test_parse_assignments_accepts_plain_numbers():
    got = parse_assignments(["x1=2", "x2=5.5", "y=-1e-3", "a=+.5", "b=5.", "c = 1E3 ", "θ=1"])
    assert got == {"x1": 2.0, "x2": 5.5, "y": -0.001, "a": 0.5, "b": 5.0, "c": 1000.0, "θ": 1.0}
    assert all(type(v) is float for v in got.values())
    assert parse_assignments([]) == {}


def test_parse_assignments_allows_explicit_inf_and_nan():
    got = parse_assignments(["p=inf", "q=-Infinity", "r=nan"])
    assert got["p"] == math.inf and got["q"] == -math.inf and math.isnan(got["r"])


@pytest.mark.parametrize(
    "items, message",
    [
        (["x"], "no '='"),
        (["=2"], "missing name"),
        (["x="], "missing value"),
        (["x=abc"], "'abc' for 'x' is not a number"),
        (["x=1_000"], "is not a number"),
        (["x=0x10"], "is not a number"),
        (["x=2*3"], "is not a number"),
        (["x=\u0661"], "is not a number"),  # an Arabic-Indic digit: float() would take it
        (["x=1e999"], "out of range"),
        (["_x=1"], "not a valid variable name"),
        (["class=1"], "not a valid variable name"),
        (["x y=1"], "not a valid variable name"),
        (["x=1", "x=2"], "'x' is given more than once: 'x=1' and 'x=2'"),
        (["\uff58=1", "x=2"], "'x' is given more than once"),
        ([7], "expected NAME=VALUE"),
        (["x=" + "1" * 5000], "too long"),
    ],
)
def test_parse_assignments_refuses_malformed_items(items, message):
    with pytest.raises(ExpressionError) as info:
        parse_assignments(items)
    assert message in str(info.value)


def test_assignments_feed_an_expression():
    e = parse_expression("x1*x2 + sin(x2)", FUNCTIONS)
    assert e.evaluate(parse_assignments(["x1=2", "x2=5"])) == pytest.approx(10 + math.sin(5))


@pytest.mark.parametrize(
    "source, message",
    [
        ("sin(x, x)", "sin() takes 1 argument, got 2 at column 1"),
        ("2 * hypot(x)", "hypot() takes 2 arguments, got 1 at column 5"),
        ("clip(x, 0)", "clip() takes 3 arguments, got 2"),
        ("sin()", "sin() takes 1 argument, got 0"),
    ],
)
def test_calls_with_the_wrong_number_of_arguments_are_refused(source, message):
    called = []
    table = {name: lambda *a: called.append(a) for name in ("sin", "hypot", "clip")}
    with pytest.raises(ExpressionError) as info:
        parse_expression(source, table, arity={"sin": 1, "hypot": 2, "clip": 3})
    assert message in str(info.value) and called == []
    assert parse_expression("hypot(x, sin(x))", table, arity={"sin": 1, "hypot": 2}).variables == ("x",)


def test_the_command_line_declares_an_arity_for_every_function():
    from chainrule.cli.explain import ARITY, FUNCTION_NAMES, arities, functions

    assert set(ARITY) == set(FUNCTION_NAMES) and set(arities()) == set(functions())
    assert ARITY["sum"] == 1 and ARITY["maximum"] == 2 and arities()["ln"] == 1
