"""What the CLI's expression language accepts: its limits, its operators, and the checker that refuses the rest."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "BINARY_OPERATORS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_FLOAT_LITERAL",
    "MAX_INT_LITERAL",
    "MAX_NODES",
    "UNARY_OPERATORS",
    "Checker",
    "ExpressionError",
    "chain",
    "char_column",
    "operator_column",
]

# Limits. The source cap (expr.MAX_SOURCE_CHARS) comes first and bounds the work everything
# after it can do; the depth cap keeps the recursive walk in ``evaluate`` far below Python's
# recursion limit; the exponent caps stop ``2**10**10``-style inputs from spending minutes
# and gigabytes in exact integer arithmetic.
MAX_DEPTH = 50
MAX_NODES = 500
MAX_EXPONENT = 1000
MAX_INT_LITERAL = 10**18
MAX_FLOAT_LITERAL = 1e308

BINARY_OPERATORS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.Pow: ("**", operator.pow),
    ast.MatMult: ("@", operator.matmul),
}
UNARY_OPERATORS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    ast.UAdd: ("+", operator.pos),
    ast.USub: ("-", operator.neg),
}

# Only used to name what was refused; nothing here is ever executed.
_REFUSED_OPERATOR_SYMBOLS: dict[type, str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.And: "and",
    ast.Or: "or",
}
_CONSTRUCT_NAMES: dict[str, str] = {
    "Attribute": "attribute access (a.b)",
    "Subscript": "subscript (a[i])",
    "Slice": "slice (a:b)",
    "Lambda": "lambda expression",
    "ListComp": "list comprehension",
    "SetComp": "set comprehension",
    "DictComp": "dict comprehension",
    "GeneratorExp": "generator expression",
    "IfExp": "conditional expression (a if c else b)",
    "Compare": "comparison",
    "BoolOp": "boolean operator",
    "JoinedStr": "f-string",
    "FormattedValue": "f-string",
    "NamedExpr": "assignment expression (:=)",
    "Starred": "starred expression (*a)",
    "List": "list display [...]",
    "Tuple": "tuple (a, b)",
    "Set": "set display {...}",
    "Dict": "dict display {...}",
    "Await": "await expression",
    "Yield": "yield expression",
    "YieldFrom": "yield expression",
    "Call": "call",
    "Constant": "constant",
}


class ExpressionError(ValueError):
    """An expression or ``name=value`` argument that was refused; ``column`` is 1-based where known."""

    def __init__(self, message: str, *, source: str | None = None, column: int | None = None):
        super().__init__(message)
        self.source = source
        self.column = column


def char_column(text: str, lead: int, col_offset: int) -> int:
    """1-based character column of ast ``col_offset`` (UTF-8 bytes) in ``text``, after ``lead`` stripped characters.

    >>> char_column("θ + y", 0, len("θ + ".encode("utf-8")))  # θ is two bytes, one column
    5
    """
    return lead + len(text.encode("utf-8")[:col_offset].decode("utf-8", errors="ignore")) + 1


def operator_column(text: str, lead: int, left: ast.AST, right: ast.AST, symbol: str) -> int | None:
    """1-based column of ``symbol`` between two operands, or None.

    >>> e = ast.parse("(a) * b", mode="eval").body
    >>> operator_column("(a) * b", 0, e.left, e.right, "*")
    5
    """
    # The AST does not record where an operator sits; find it in the gap
    # between its operands (only blanks and brackets can be there).
    start = char_column(text, 0, left.end_col_offset) - 1
    stop = char_column(text, 0, right.col_offset) - 1
    where = text.find(symbol, start, stop)
    return None if where < 0 else lead + where + 1


def _describe(node: ast.AST) -> str:
    name = type(node).__name__
    if isinstance(node, ast.BoolOp):
        return f"boolean operator '{_REFUSED_OPERATOR_SYMBOLS.get(type(node.op), '?')}'"
    if isinstance(node, ast.Compare):
        return f"comparison '{_REFUSED_OPERATOR_SYMBOLS.get(type(node.ops[0]), '?')}'"
    return _CONSTRUCT_NAMES.get(name, name)


class Checker:
    """Validates a parsed tree without recursion, so hostile nesting cannot overflow the stack.

    >>> checker = Checker("x % 2", 0, {})
    >>> checker.check(ast.parse("x % 2", mode="eval"))
    Traceback (most recent call last):
    ...
    chainrule.cli.expr_syntax.ExpressionError: operator '%' is not allowed at column 3; only + - * / ** @ are
    """

    def __init__(
        self, source: str, lead: int, functions: Mapping[str, Callable], arity: Mapping[str, int] | None = None
    ):
        self.arity = arity or {}
        self.source = source
        self.lead = lead  # leading blanks stripped before parsing; added back to columns
        self.text = source[lead:]
        self.functions = functions
        self.variables: list[str] = []

    # -- positions -------------------------------------------------------
    def column(self, col_offset: int) -> int:
        return char_column(self.text, self.lead, col_offset)

    def error(
        self, message: str, node: ast.AST | None = None, column: int | None = None, hint: str | None = None
    ) -> ExpressionError:
        if column is None and node is not None and hasattr(node, "col_offset"):
            column = self.column(node.col_offset)
        if column is not None:
            message = f"{message} at column {column}"
        if hint:
            message = f"{message}; {hint}"
        return ExpressionError(message, source=self.source, column=column)

    def operator_column(self, left: ast.AST, right: ast.AST, symbol: str) -> int | None:
        return operator_column(self.text, self.lead, left, right, symbol)

    # -- the walk --------------------------------------------------------
    def check(self, tree: ast.Expression) -> None:
        self.check_size(tree)
        stack: list[ast.AST] = [tree.body]
        while stack:
            node = stack.pop()
            # Reversed so the pop order is left to right: variables are then
            # recorded in order of first appearance.
            stack.extend(reversed(self.check_node(node)))

    def check_size(self, tree: ast.Expression) -> None:
        # First, and without recursion: everything after this (including the
        # recursive walk in Expression.evaluate) may rely on the depth bound.
        stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
        count = 0
        while stack:
            node, depth = stack.pop()
            count += 1
            if depth > MAX_DEPTH:
                raise self.error(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", node)
            if count > MAX_NODES:
                raise self.error(f"expression is too large (more than {MAX_NODES} parts)", node)
            for child in ast.iter_child_nodes(node):
                # Only expressions count: operator and context markers are
                # bookkeeping, not size. A chain of one kind of operator,
                # x1 + x2 - ... + x200, is flat to a reader (and evaluated
                # without recursion), so its left operand keeps the depth.
                if isinstance(child, ast.expr):
                    stack.append((child, depth if _continues_chain(node, child) else depth + 1))
                elif not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
                    stack.append((child, depth))

    def check_node(self, node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.Constant):
            self.check_constant(node)
            return []
        if isinstance(node, ast.Name):
            self.check_name(node)
            return []
        if isinstance(node, ast.BinOp):
            self.check_binop(node)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in UNARY_OPERATORS:
                symbol = _REFUSED_OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
                raise self.error(f"unary operator '{symbol}' is not allowed", node, hint="only + and - are")
            return [node.operand]
        if isinstance(node, ast.Call):
            self.check_call(node)
            return list(node.args)
        raise self.error(f"{_describe(node)} is not allowed", node)

    def check_constant(self, node: ast.Constant) -> None:
        value = node.value
        # type() rather than isinstance(): True and False are ints to Python.
        if type(value) is int:
            if abs(value) > MAX_INT_LITERAL:
                raise self.error(f"integer literal is too large (limit {MAX_INT_LITERAL:.0e})", node)
            return
        if type(value) is float:
            # 1e309 parses to inf, so "inf or beyond the limit" is one test.
            if not abs(value) <= MAX_FLOAT_LITERAL:
                raise self.error(f"number literal is out of range (limit {MAX_FLOAT_LITERAL:g})", node)
            return
        if isinstance(value, complex):
            kind = "complex number literal"
        elif isinstance(value, str):
            kind = "string literal"
        elif isinstance(value, bytes):
            kind = "bytes literal"
        elif value is None or isinstance(value, bool) or value is Ellipsis:
            kind = f"constant {value!r}"
        else:
            kind = f"literal of type {type(value).__name__}"
        raise self.error(f"{kind} is not allowed", node, hint="only int and float numbers are")

    def check_name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("_"):
            raise self.error(f"name {name!r} is not allowed", node, hint="names may not start with '_'")
        if name in self.functions:
            raise self.error(f"function {name!r} is used as a variable", node, hint=f"call it, as in {name}(x)")
        if name not in self.variables:
            self.variables.append(name)

    def check_call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.error(
                f"calling something other than a function name is not allowed ({_describe(func)})",
                node,
                hint="only named functions such as sin(x) can be called",
            )
        name = func.id
        if name.startswith("_"):
            raise self.error(f"name {name!r} is not allowed", func, hint="names may not start with '_'")
        if name not in self.functions:
            known = ", ".join(sorted(self.functions)) or "none"
            raise self.error(f"unknown function {name!r}", func, hint=f"known functions: {known}")
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error(f"'**' argument unpacking in the call of {name}() is not allowed", kw)
            raise self.error(f"keyword argument {kw.arg!r} in the call of {name}() is not allowed", kw)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(f"'*' argument unpacking in the call of {name}() is not allowed", arg)
        want = self.arity.get(name)
        if want is not None and len(node.args) != want:
            plural = "" if want == 1 else "s"
            raise self.error(f"{name}() takes {want} argument{plural}, got {len(node.args)}", func)

    def check_binop(self, node: ast.BinOp) -> None:
        op = type(node.op)
        if op not in BINARY_OPERATORS:
            symbol = _REFUSED_OPERATOR_SYMBOLS.get(op, op.__name__)
            column = self.operator_column(node.left, node.right, symbol)
            raise self.error(f"operator '{symbol}' is not allowed", node, column, hint="only + - * / ** @ are")
        if op is not ast.Pow:
            return
        column = self.operator_column(node.left, node.right, "**")
        # Exact integer powers are the one way a short input can demand
        # unbounded time and memory: 10**10**10 has ten billion digits.
        # Towers of literals are refused outright; a literal exponent is
        # bounded. Anything involving a variable runs on the user's values.
        for side in (node.left, node.right):
            if _is_literal_only(side) and _contains_pow(side):
                raise self.error(
                    "a power of a power of number literals is not allowed",
                    node,
                    column,
                    hint="towers like 10**10**10 would take unbounded time and memory",
                )
        if _is_literal_only(node.right):
            exponent = _fold_literals(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise self.error(
                    f"exponent {exponent:g} is too large",
                    node,
                    column,
                    hint=f"a number literal exponent may be at most {MAX_EXPONENT} in size",
                )


_CHAINS = ({ast.Add, ast.Sub}, {ast.Mult, ast.Div, ast.MatMult})  # operators of one precedence, left-associative


def _same_chain(a: ast.AST, b: ast.AST) -> bool:
    return (
        isinstance(a, ast.BinOp)
        and isinstance(b, ast.BinOp)
        and any(type(a.op) in group and type(b.op) in group for group in _CHAINS)
    )


def _continues_chain(node: ast.AST, child: ast.AST) -> bool:
    """True for the left operand of ``a + b`` that is itself ``... + ...`` (or -, or * / @ likewise)."""
    return _same_chain(node, child) and child is node.left


def chain(node: ast.BinOp) -> list[ast.BinOp]:
    """The operations of a left-associated chain, innermost first: ``a + b - c`` gives ``[a + b, (a + b) - c]``.

    >>> [ast.unparse(link) for link in chain(ast.parse("a + b - c * d", mode="eval").body)]
    ['a + b', 'a + b - c * d']
    """
    links = [node]
    while _continues_chain(links[-1], links[-1].left):
        links.append(links[-1].left)
    return links[::-1]


def _iter_subtree(node: ast.AST):
    # Only called on trees already known to be at most MAX_DEPTH deep.
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(ast.iter_child_nodes(item))


def _is_literal_only(node: ast.AST) -> bool:
    """True when the subtree is numbers and operators only, so Python would compute it exactly and eagerly."""
    return all(not isinstance(item, (ast.Name, ast.Call)) for item in _iter_subtree(node))


def _contains_pow(node: ast.AST) -> bool:
    return any(isinstance(item, ast.BinOp) and isinstance(item.op, ast.Pow) for item in _iter_subtree(node))


def _fold_literals(node: ast.AST) -> float | int | None:
    """Value of a Pow-free literal subtree (+ - * / and unary only), or None when it has no single number value."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY_OPERATORS:
        inner = _fold_literals(node.operand)
        return None if inner is None else UNARY_OPERATORS[type(node.op)][1](inner)
    if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
        links = chain(node)  # a long flat sum is folded in a loop, not by recursion
        value = _fold_literals(links[0].left)
        for link in links:
            right = _fold_literals(link.right) if type(link.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div) else None
            if value is None or right is None:
                return None
            try:
                value = BINARY_OPERATORS[type(link.op)][1](value, right)
            except ArithmeticError:
                # 1/0 and friends fail just as quickly when evaluated; nothing to bound here.
                return None
        return value
    return None
