"""``python -m chainrule explain "x1*x2 + sin(x2)" x1=2 x2=5``: an expression's forward trace and adjoints."""

from __future__ import annotations

import argparse
import sys
import textwrap

import numpy as np

from ..explain import explain
from ..ops import PUBLIC
from ..viz.notation import to_ascii
from . import encodable
from .expr import ExpressionError, parse_assignments, parse_expression

__all__ = [
    "ARITY", "FUNCTION_NAMES", "dash_hint_when_it_applies", "emit", "explain_expression", "fail", "functions",
    "register", "run",
]

# The functions an expression may call: chainrule's public elementwise and reduction functions, named
# one by one (never "everything in the namespace", which would include creation functions, I/O, ...),
# each with the number of arguments it takes here. Every value on the command line is a number, so a
# reduction takes just its value: an axis would be meaningless (and a variable there a Tensor).
UNARY = (
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "square", "reciprocal",
    "sigmoid", "relu", "abs", "sum", "mean", "prod", "max", "min",
)  # fmt: skip
BINARY = ("maximum", "minimum", "arctan2", "hypot", "logaddexp", "power")
ARITY = {**dict.fromkeys(UNARY, 1), **dict.fromkeys(BINARY, 2), "clip": 3}  # clip(x, lo, hi)
FUNCTION_NAMES = tuple(ARITY)
ALIASES = {"ln": "log"}  # the notes write ln x

EPILOG = """\
Variables are given as NAME=VALUE (numbers only). An expression that starts with '-' must follow '--':
  python -m chainrule explain -- "-x*y" x=2 y=3

""" + textwrap.fill(
    "Expressions are parsed, never evaluated as Python: numbers, variables, + - * / ** @ and the "
    "functions " + ", ".join(sorted(FUNCTION_NAMES + tuple(ALIASES))) + ".",
    100,
)


def functions():
    """``{name: chainrule function}`` for the names an expression may call."""
    table = {name: PUBLIC[name] for name in FUNCTION_NAMES}  # cr.sin is ops' sin, and so on
    table.update({alias: table[name] for alias, name in ALIASES.items() if name in table})
    return table


def arities():
    """``{name: number of arguments}`` for the names an expression may call (aliases included)."""
    return {**ARITY, **{alias: ARITY[name] for alias, name in ALIASES.items()}}


def explain_expression(source, assignments, **options):
    """Parse ``source`` and ``["x1=2", ...]`` safely and explain the expression at those values.

    The variables become the function's arguments in the order given; ``options`` go to
    :func:`chainrule.explain.explain` (``mode``, ``direction``, ``precision``).

    >>> ex = explain_expression("x1*x2 + sin(x2)", ["x1=2", "x2=5"])
    >>> [round(float(g.value), 5) for g in ex.gradients]
    [5.0, 2.28366]
    """
    expression = parse_expression(source, functions(), arity=arities())
    values = parse_assignments(assignments)
    if not expression.variables:
        raise ExpressionError(f"the expression {source!r} has no variables, so there is nothing to differentiate")
    missing = [name for name in expression.variables if name not in values]
    if missing:
        example = " ".join(f"{name}=1" for name in missing)
        raise ExpressionError(f"give a value for every variable: missing {', '.join(missing)} (e.g. {example})")
    names = list(values)

    def f(*args):
        return expression.evaluate(dict(zip(names, args)))

    with np.errstate(all="ignore"):  # log(-1) and 1/0 show as nan and inf in the table, not as warnings
        return explain(f, *(values[n] for n in names), names=names, **options)


def fail(command, error):
    """Print ``error`` as one clear line on stderr; the exit code for a refused input is 2."""
    text = str(error)
    for prefix in (f"{command}: ", "explain: "):  # the library's own message may name the call already
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    print(f"python -m chainrule {command}: error: {text}", file=sys.stderr)
    return 2


# What the commands refuse with a message instead of a traceback: bad input, and operations that fail on it.
ERRORS = (ExpressionError, ValueError, TypeError, ArithmeticError, NotImplementedError, RuntimeError, OSError)


def wants_ascii(ascii=False):
    """Plain ASCII when asked for, or when the terminal cannot show v̄ and ∂."""
    return ascii or not encodable("v̄ ∂ · ∘ ← √", sys.stdout)


def emit(text, ascii=False):
    """Print ``text``, spelled in plain ASCII where ``wants_ascii``; an explanation is spelled out cell by
    cell before its columns are padded (``str(ex)`` transliterated afterwards would not line up)."""
    plain = wants_ascii(ascii)
    if not isinstance(text, str):
        text = text.to_text(ascii=plain)
    print(to_ascii(text) if plain else text)


def add_common(parser):
    """The arguments ``explain`` and ``graph`` share."""
    parser.add_argument("expression", help='the expression, e.g. "x1*x2 + sin(x2)"')
    parser.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for each variable, e.g. x1=2")
    parser.add_argument(
        "--mode",
        choices=("reverse", "forward"),
        default="reverse",
        help="reverse: adjoints v̄ from the output back (default); forward: dual numbers (v, v̇)",
    )
    parser.add_argument(
        "--direction", metavar="NAME", help="forward mode: the variable whose tangent is 1 (default: the first)"
    )
    parser.add_argument("--precision", type=int, default=6, metavar="N", help="significant digits (default 6)")


def dash_hint_when_it_applies(parser, example):
    """Give ``parser`` the hint for expressions that start with '-' (``example``) only for command lines
    that hold such an argument: argparse reports both a missing expression and ``"-x*y"`` (taken for an
    option) as "required: expression", and only the second needs the hint."""
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        given = list(sys.argv[1:] if args is None else args)
        given = given[: given.index("--")] if "--" in given else given
        dashed = [a for a in given if a.startswith("-") and a.split("=")[0] not in parser._option_string_actions]
        parser.dash_hint = example if dashed else None
        return parse(args, namespace)

    parser.dash_hint = example
    parser.parse_known_args = parse_known_args


def register(subparsers):
    parser = subparsers.add_parser(
        "explain",
        help="print the forward trace and the backward adjoints of an expression",
        description="Print the Wengert list of an expression and its adjoints in bar notation "
        "(v̄ = ∂f/∂v), with numbers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dash_hint_when_it_applies(parser, 'python -m chainrule explain -- "-x*y" x=2 y=3')
    add_common(parser)
    parser.add_argument(
        "--ascii",
        action="store_true",
        help="plain ASCII, for terminals without Unicode: an adjoint as v3_bar, products as *",
    )
    parser.set_defaults(func=run)


def options(args):
    if args.precision < 1 or args.precision > 17:
        raise ValueError(f"--precision must be between 1 and 17, got {args.precision}")
    if args.direction is not None and args.mode != "forward":
        raise ValueError("--direction applies to --mode forward only")
    found = {"mode": args.mode, "precision": args.precision}
    if args.direction is not None:
        found["direction"] = args.direction
    return found


def run(args) -> int:
    try:
        ex = explain_expression(args.expression, args.values, **options(args))
    except ERRORS as e:
        return fail("explain", e)
    emit(ex, args.ascii)
    return 0
