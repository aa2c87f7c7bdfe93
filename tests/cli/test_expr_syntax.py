"""Tests for what the CLI's expression language refuses, without running anything, and where it points."""

import math
import os
import re
import time
from pathlib import Path

import pytest

from chainrule.cli import expr, expr_syntax
from chainrule.cli.expr import ExpressionError, parse_expression

FUNCTIONS = {"sin": math.sin, "exp": math.exp, "log": math.log, "sqrt": math.sqrt}


NESTED_PARENS = "(" * 10_000 + "x" + ")" * 10_000
NESTED_NEG = "-(" * 10_000 + "x" + ")" * 10_000

MALICIOUS = [
    ("__import__('os').system('echo hi')", "calling something other than a function name"),
    ("__import__('os')", "name '__import__' is not allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in range(10)]", "list comprehension"),
    ("sin(x, **{'a': 1})", "'**' argument unpacking in the call of sin()"),
    ("sin(x=1)", "keyword argument 'x'"),
    ("sin(*x)", "'*' argument unpacking"),
    ("x.real", "attribute access"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("10**10**10", "power of a power of number literals"),
    ("(10**10)**10", "power of a power of number literals"),
    ("x ** 10**10", "power of a power of number literals"),
    ("2**100000", "exponent 100000 is too large"),
    ("2**-1001", "exponent -1001 is too large"),
    ("2**(1000*1000*1000)", "exponent 1e+09 is too large"),
    ('"a"*10', "string literal"),
    ("b'a'", "bytes literal"),
    (NESTED_PARENS, "too long"),
    (NESTED_NEG, "too long"),
    ("x" * 100_000, "too long: 100000 characters"),
    ("x if y else z", "conditional expression"),
    ("x < y", "comparison '<'"),
    ("x and y", "boolean operator 'and'"),
    ('f"{x}"', "f-string"),
    ("(x := 1)", "assignment expression (:=)"),
    ("x % 2", "operator '%'"),
    ("x // 2", "operator '//'"),
    ("x | y", "operator '|'"),
    ("~x", "unary operator '~'"),
    ("not x", "unary operator 'not'"),
    ("x[0]", "subscript"),
    ("x, y", "tuple"),
    ("{x: 1}", "dict display"),
    ("1j", "complex number literal"),
    ("True", "constant True"),
    ("None", "constant None"),
    ("...", "constant Ellipsis"),
    ("10000000000000000001", "integer literal is too large"),
    ("1e309", "number literal is out of range"),
    ("sin", "function 'sin' is used as a variable"),
    ("_secret + 1", "name '_secret' is not allowed"),
    ("sin(x)(y)", "calling something other than a function name"),
    ("x\n+ y", "control character"),
    ("x\u202e + y", "control character"),
    ("", "expression is empty"),
    ("x +", "syntax error: invalid syntax at the end of the expression"),
    ("x +* 1", "syntax error: invalid syntax at column 4"),
    ("sin(x", "syntax error: '(' was never closed at column 4"),
    ("-" * 300 + "x", "nested too deeply"),
    ("(" * 60 + "x" + ")" * 60, "brackets are nested too deeply (more than 50 levels) at column 51"),
    ("x**" * 60 + "x", "nested too deeply"),
    ("sin(x+" * 30 + "x" + ")" * 30, "nested too deeply"),
]


@pytest.mark.parametrize("source, message", MALICIOUS, ids=[repr(s[:30]) for s, _ in MALICIOUS])
def test_malicious_and_unsupported_input_is_refused_with_a_clear_message(source, message, monkeypatch, capfd):
    calls = []

    def spy(name):
        def function(*args):
            calls.append(name)
            return 0.0

        return function

    # Nothing may run while parsing: not the user's functions, not a shell.
    monkeypatch.setattr(os, "system", lambda *a: calls.append("os.system"))
    start = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        parse_expression(source, {name: spy(name) for name in FUNCTIONS})
    assert time.perf_counter() - start < 1.0
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    assert calls == []
    assert capfd.readouterr().out == ""


def test_refusals_point_at_the_offending_column():
    with pytest.raises(ExpressionError) as info:
        parse_expression("x + y.real", {})
    assert info.value.column == 5 and "at column 5" in str(info.value)
    with pytest.raises(ExpressionError) as info:
        parse_expression("  x % 2", {})
    assert info.value.column == 5  # the operator itself, counting the leading blanks
    with pytest.raises(ExpressionError) as info:
        parse_expression("θθ + open(1)", FUNCTIONS)
    assert info.value.column == 6  # characters, not UTF-8 bytes
    assert "known functions: exp, log, sin, sqrt" in str(info.value)


def test_a_flat_chain_of_one_operator_is_not_nesting():
    # x1 + x2 + ... + x200 is one flat sum to a reader: allowed, however long (within the size limits)
    flat = "+".join(f"x{k}" for k in range(1, 201))
    e = parse_expression(flat, {})
    assert len(e.variables) == 200 and e.evaluate({f"x{k}": float(k) for k in range(1, 201)}) == 20100.0
    assert parse_expression("x" + "-x/2" * 100, {}).evaluate({"x": 2.0}) == 2.0 - 100.0
    assert parse_expression("x" + "*x" * 150, {}).evaluate({"x": 1.0}) == 1.0
    assert parse_expression("2**(" + "+".join(["1"] * 100) + ")", {}).evaluate({}) == 2**100  # folded in a loop
    # a chain is flat only along its left operands: real nesting is still limited
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_expression("sin(x+" * 30 + "x" + ")" * 30, {"sin": abs})  # a sum inside each call: 60 levels
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_expression("x" + "**x" * 60, {})
    with pytest.raises(ExpressionError, match=r"too large \(more than 500 parts\)"):
        parse_expression("x" + "+x" * 300, {})
    # explain and graph take such a sum through to the end
    from chainrule.cli.explain import explain_expression

    ex = explain_expression("+".join(f"x{k}" for k in range(1, 121)), [f"x{k}={k}" for k in range(1, 121)])
    assert [float(g.value) for g in ex.gradients] == [1.0] * 120


def test_depth_and_size_limits_have_exact_boundaries():
    assert parse_expression("-" * 49 + "x", {}).evaluate({"x": 1.0}) == -1.0
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_expression("-" * 50 + "x", {})
    assert parse_expression("(" * 50 + "x" + ")" * 50, {}).variables == ("x",)
    # 16 groups of 16 leaves: 511 nodes in under 600 characters, only 32 deep.
    wide = "+".join("(" + "+".join(["x"] * 16) + ")" for _ in range(16))
    with pytest.raises(ExpressionError, match=r"too large \(more than 500 parts\)"):
        parse_expression(wide, {})


@pytest.mark.parametrize(
    "source",
    [
        NESTED_PARENS,
        NESTED_NEG,
        "-" * 10_000 + "x",  # the parser itself gives up with MemoryError here
        "x+" * 50_000 + "x",  # ... and with RecursionError here
        "x**" * 10_000 + "x",
        "sin(" * 10_000 + "x" + ")" * 10_000,
    ],
    ids=["parens", "negations", "unary-chain", "long-sum", "power-chain", "calls"],
)
def test_pathological_nesting_is_refused_even_without_the_length_limit(source, monkeypatch):
    # Lift the length cap to show the later guards hold on their own:
    # no RecursionError, MemoryError or crash escapes.
    monkeypatch.setattr(expr, "MAX_SOURCE_CHARS", 10**7)
    with pytest.raises(ExpressionError, match="nested too deeply|could not be parsed|too many nested"):
        parse_expression(source, FUNCTIONS)


def test_non_string_source_is_refused():
    with pytest.raises(ExpressionError, match="must be a string"):
        parse_expression(b"x + 1", {})


def test_module_never_uses_dynamic_code_execution():
    # Mirrors the repository hook; re.compile is fine, the builtin is not.
    for module in (expr, expr_syntax):
        text = Path(module.__file__).read_text(encoding="utf-8")
        for token in ("ev" + "al(", "ex" + "ec(", "literal_" + "ev"):
            assert token not in text
        assert not re.search(r"(?<!re\.)\bcompile\(", text)
