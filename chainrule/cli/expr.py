"""A small, safe arithmetic language for the command line: parsed by ``ast``, whitelisted, walked by hand."""

from __future__ import annotations

import ast
import keyword
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .expr_syntax import (BINARY_OPERATORS, MAX_DEPTH, UNARY_OPERATORS, Checker, ExpressionError, chain, char_column,
                          operator_column)

__all__ = ["MAX_SOURCE_CHARS", "Expression", "ExpressionError", "parse_assignments", "parse_expression"]

MAX_SOURCE_CHARS = 1000  # the first limit: it bounds the work every later check and the evaluation can do

_BRACKETS_OPEN = "([{"
_BRACKETS_CLOSE = ")]}"


class Expression:
    """A validated expression: ``source``, ``variables`` (first-appearance order), and ``evaluate``.

    >>> import math
    >>> e = parse_expression("x1*x2 + sin(x2)", {"sin": math.sin})
    >>> e.variables
    ('x1', 'x2')
    >>> round(e.evaluate({"x1": 2.0, "x2": 5.0}), 6)
    9.041076
    """

    __slots__ = ("_functions", "_lead", "_source", "_tree", "_variables")

    def __init__(
        self,
        source: str,
        lead: int,
        tree: ast.Expression,
        functions: Mapping[str, Callable],
        variables: tuple[str, ...],
    ):
        self._source = source
        self._lead = lead
        self._tree = tree
        self._functions = functions
        self._variables = variables

    @property
    def source(self) -> str:
        """The text as given."""
        return self._source

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in order of first appearance."""
        return self._variables

    def __repr__(self) -> str:
        return f"Expression({self._source!r}, variables={self._variables!r})"

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """Compute the expression with ``values`` bound to its variables, using Python's operators on them.

        Every variable needs a value and every value a variable, so typos show
        up as errors rather than silently unused inputs.

        >>> e = parse_expression("a ** 2 - b", {})
        >>> e.evaluate({"a": 3, "b": 1})
        8
        >>> e.evaluate({"a": 3})
        Traceback (most recent call last):
        ...
        chainrule.cli.expr_syntax.ExpressionError: missing value for variable: b
        """
        missing = [name for name in self._variables if name not in values]
        extra = sorted((name for name in values if name not in self._variables), key=str)
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise ExpressionError(
                f"missing value{plural} for variable{plural}: {', '.join(missing)}", source=self._source
            )
        if extra:
            uses = ", ".join(self._variables) or "no variables"
            plural = "s" if len(extra) > 1 else ""
            raise ExpressionError(
                f"value{plural} given for name{plural} not in the expression: {', '.join(map(str, extra))}"
                f" (it uses: {uses})",
                source=self._source,
            )
        return self._compute(self._tree.body, values)

    def _compute(self, node: ast.AST, values: Mapping[str, Any]) -> Any:
        # Recursion is safe: the checker capped the depth at MAX_DEPTH (a flat chain is a loop here).
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            symbol, apply = UNARY_OPERATORS[type(node.op)]
            return self._guard(apply, (self._compute(node.operand, values),), symbol, node)
        if isinstance(node, ast.BinOp):
            links = chain(node)  # x1 + x2 + ... + x200 in a loop: the checker let its depth stay flat
            value = self._compute(links[0].left, values)
            for link in links:
                symbol, apply = BINARY_OPERATORS[type(link.op)]
                value = self._guard(apply, (value, self._compute(link.right, values)), symbol, link)
            return value
        if isinstance(node, ast.Call):
            args = tuple(self._compute(arg, values) for arg in node.args)
            return self._guard(self._functions[node.func.id], args, f"{node.func.id}()", node)
        # Unreachable for trees that passed the checker; kept as a hard stop.
        raise ExpressionError(f"internal error: unchecked {type(node).__name__} node", source=self._source)

    def _guard(self, apply: Callable, args: tuple, what: str, node: ast.AST) -> Any:
        # Arithmetic errors (1/0, float overflow) are the user's input going
        # wrong, so they get the column; any other error is a real failure
        # of the operation and propagates unchanged.
        try:
            return apply(*args)
        except ArithmeticError as exc:
            text = self._source[self._lead :]
            column = None
            if isinstance(node, ast.BinOp):
                column = operator_column(text, self._lead, node.left, node.right, what)
            if column is None:
                column = char_column(text, self._lead, node.col_offset)
            raise ExpressionError(
                f"{type(exc).__name__} in {what} at column {column}: {exc}", source=self._source, column=column
            ) from exc


def _check_characters(source: str) -> None:
    for index, char in enumerate(source):
        # One line only: columns stay unambiguous and the CLI shows one line.
        if char != "\t" and unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise ExpressionError(
                f"control character {char!r} is not allowed at column {index + 1}", source=source, column=index + 1
            )


def _check_bracket_depth(source: str) -> None:
    # Before ast.parse: the parser itself recurses, and brackets alone add no
    # AST depth, so this is where ((((x)))) nesting gets its limit.
    depth = 0
    for index, char in enumerate(source):
        if char in _BRACKETS_OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError(
                    f"brackets are nested too deeply (more than {MAX_DEPTH} levels) at column {index + 1}",
                    source=source,
                    column=index + 1,
                )
        elif char in _BRACKETS_CLOSE:
            depth = max(depth - 1, 0)


def parse_expression(
    source: str, functions: Mapping[str, Callable], arity: Mapping[str, int] | None = None
) -> Expression:
    """Parse and validate ``source``; refuse anything outside numbers, names, + - * / ** @, and calls of ``functions``.

    Nothing is run while parsing: the functions are only looked up by name. ``arity`` gives the number
    of arguments a function takes (``{"sin": 1}``); a call with another number is refused here, before
    it could reach the function with arguments it does not expect.

    >>> import math
    >>> e = parse_expression("exp(-x) * y", {"exp": math.exp})
    >>> e.variables
    ('x', 'y')
    >>> e.evaluate({"x": 0.0, "y": 3.0})
    3.0
    >>> parse_expression("x.real", {})
    Traceback (most recent call last):
    ...
    chainrule.cli.expr_syntax.ExpressionError: attribute access (a.b) is not allowed at column 1
    """
    if not isinstance(source, str):
        raise ExpressionError(f"expression must be a string, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"expression is too long: {len(source)} characters (limit {MAX_SOURCE_CHARS})")
    _check_characters(source)
    text = source.lstrip(" \t")
    lead = len(source) - len(text)  # eval-mode parsing rejects leading blanks as an indent
    if not text.strip():
        raise ExpressionError("expression is empty", source=source)
    _check_bracket_depth(source)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        # offset is 1-based in characters; 0 or past the end means the input
        # stopped early (as in "x +").
        if exc.offset and exc.offset <= len(text):
            column, where = lead + exc.offset, f"at column {lead + exc.offset}"
        else:
            column, where = len(source.rstrip()) + 1, "at the end of the expression"
        raise ExpressionError(f"syntax error: {exc.msg} {where}", source=source, column=column) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        # The parser reports overly complex input as MemoryError or
        # RecursionError and some bad characters as ValueError.
        raise ExpressionError(f"expression could not be parsed: {type(exc).__name__}: {exc}", source=source) from None
    functions = dict(functions)  # a snapshot: validation and evaluation see the same names
    checker = Checker(source, lead, functions, arity)
    checker.check(tree)
    return Expression(source, lead, tree, functions, tuple(checker.variables))


_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
    re.IGNORECASE | re.ASCII,  # ASCII: \d and float() would also take other scripts' digits
)


def _is_variable_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """Turn ``["x1=2", "y=-1e-3"]`` into ``{"x1": 2.0, "y": -0.001}``, refusing anything that is not a plain number.

    >>> parse_assignments(["x1=2", "x2=5.5", "y=-1e-3"])
    {'x1': 2.0, 'x2': 5.5, 'y': -0.001}
    >>> parse_assignments(["x=2", "x=3"])
    Traceback (most recent call last):
    ...
    chainrule.cli.expr_syntax.ExpressionError: 'x' is given more than once: 'x=2' and 'x=3'
    """
    result: dict[str, float] = {}
    given: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            raise ExpressionError(f"expected NAME=VALUE, got {item!r}")
        if len(item) > MAX_SOURCE_CHARS:
            raise ExpressionError(f"argument is too long: {len(item)} characters (limit {MAX_SOURCE_CHARS})")
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep:
            raise ExpressionError(f"expected NAME=VALUE, got {item!r} (no '=')")
        if not name:
            raise ExpressionError(f"missing name before '=' in {item!r}")
        # The parser folds compatibility characters (a full-width x is x), so
        # names given here are folded the same way to match.
        name = unicodedata.normalize("NFKC", name)
        if not _is_variable_name(name):
            raise ExpressionError(
                f"{name!r} in {item!r} is not a valid variable name (a letter or digits, not starting with '_')"
            )
        if not value:
            raise ExpressionError(f"missing value after '=' in {item!r}")
        if not _NUMBER.fullmatch(value):
            raise ExpressionError(f"value {value!r} for {name!r} is not a number")
        number = float(value)
        if number in (float("inf"), float("-inf")) and "inf" not in value.lower():
            raise ExpressionError(f"value {value!r} for {name!r} is out of range for a float")
        if name in result:
            raise ExpressionError(f"{name!r} is given more than once: {given[name]!r} and {item!r}")
        result[name] = number
        given[name] = item
    return result
