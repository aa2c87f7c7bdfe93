"""``python -m chainrule graph "x1*x2 + sin(x2)" x1=2 x2=5 --out g.svg``: an expression's graph, with numbers."""

from __future__ import annotations

import argparse
import sys

from .. import viz
from . import encodable
from .explain import EPILOG, ERRORS, add_common, dash_hint_when_it_applies, explain_expression, fail, options

__all__ = ["register", "run"]


def register(subparsers):
    parser = subparsers.add_parser(
        "graph",
        help="draw the computation graph of an expression (SVG or PNG)",
        description="Draw the computation graph of an expression: each node with its value and its adjoint "
        "v̄ (forward mode: its tangent v̇). The format follows the suffix of --out: .svg, .png, "
        "or .dot for the Graphviz text; --out - prints the DOT text.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dash_hint_when_it_applies(parser, 'python -m chainrule graph -- "-x*y" x=2 y=3 --out g.svg')
    add_common(parser)
    parser.add_argument("--out", default="graph.svg", metavar="PATH", help="where to write (default graph.svg)")
    parser.add_argument(
        "--rankdir",
        choices=("LR", "TB", "BT", "RL"),
        default="LR",
        help="layout direction (default LR: inputs on the left)",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.out != "-" and viz.format_of(args.out) is None:
        known = ", ".join(viz.SUFFIXES)
        return fail(
            "graph", f"cannot tell the format of --out {args.out}: give a path ending in {known}, or - for DOT text"
        )
    try:
        ex = explain_expression(args.expression, args.values, **options(args))
        opts = {"rankdir": args.rankdir, "precision": min(args.precision, 6)}
        if args.out == "-":
            text = viz.to_dot(ex, **opts)
            if not encodable(text, sys.stdout):
                # Graphviz reads &#772; as the character itself, so ASCII DOT draws the same picture
                text = text.encode("ascii", "xmlcharrefreplace").decode("ascii")
            sys.stdout.write(text)
            return 0
        drawing = viz.draw(ex, args.out, **opts)
    except viz.GraphTooLarge as e:
        svg = "draw it as SVG (--out graph.svg) or " if getattr(e, "pixels", None) else ""
        return fail("graph", f"{e.summary}; {svg}write the DOT text instead (--out graph.dot, or --out - to print it)")
    except ERRORS as e:
        return fail("graph", e)
    print(f"wrote {drawing.path} ({drawing.format}, {len(ex.forward) + len(ex.constants)} nodes)")
    return 0
