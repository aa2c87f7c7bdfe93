"""The command line: ``python -m chainrule train | explain | graph | bench``."""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

# Each subcommand lives in its own module with register(subparsers); imported
# lazily so that `python -m chainrule explain` never loads matplotlib or tqdm.
COMMANDS = {
    "train": ("chainrule.cli.train", "train a model on the bundled digits (or MNIST IDX files)"),
    "explain": ("chainrule.cli.explain", "print the forward trace and backward adjoints of an expression"),
    "graph": ("chainrule.cli.graph", "draw the computation graph of an expression (SVG or PNG)"),
    "bench": ("chainrule.cli.bench", "run the benchmark suite"),
}


def build_parser(command=None):
    parser = argparse.ArgumentParser(
        prog="python -m chainrule",
        description="chainrule: automatic differentiation and deep learning on NumPy.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        importlib.import_module(module).register(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)
