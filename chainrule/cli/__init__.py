"""The command line: ``python -m chainrule train | explain | graph | bench``."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

__all__ = ["Parser", "encodable", "install_interrupt_handler", "main"]

# Each subcommand lives in its own module with register(subparsers); imported
# lazily so that `python -m chainrule explain` never loads matplotlib or tqdm.
COMMANDS = {
    "train": ("chainrule.cli.train", "train a model on the bundled digits (or MNIST IDX files)"),
    "explain": ("chainrule.cli.explain", "print the forward trace and backward adjoints of an expression"),
    "graph": ("chainrule.cli.graph", "draw the computation graph of an expression (SVG or PNG)"),
    "bench": ("chainrule.cli.bench", "run the benchmark suite"),
}


def encodable(text, *streams):
    """True when every stream (default: stdout and stderr) can show ``text`` (an ASCII terminal cannot show v̄)."""
    for stream in streams or (sys.stdout, sys.stderr):
        try:
            text.encode(getattr(stream, "encoding", None) or "utf-8")
        except (UnicodeEncodeError, LookupError):
            return False
    return True


class Parser(argparse.ArgumentParser):
    """argparse as the commands need it: help and errors are spelled in ASCII where the terminal cannot
    show v̄ or ∂, and a parser with ``dash_hint`` (an example) says how to pass an expression that starts
    with '-', which argparse otherwise takes for an option."""

    dash_hint = None

    def format_help(self):
        return _plain(super().format_help())

    def format_usage(self):
        return _plain(super().format_usage())

    def error(self, message):
        if self.dash_hint and ("unrecognized arguments: " in message or "required: expression" in message):
            message += f"\n(an expression that starts with '-' goes after '--', e.g. {self.dash_hint})"
        super().error(message)

    def exit(self, status=0, message=None):
        super().exit(status, None if message is None else _plain(message))


def _plain(text):
    # lazily: under `python -m chainrule` the package imports this module before its own imports, to catch a
    # Ctrl-C during them (install_interrupt_handler), so it imports nothing of chainrule at its top
    from ..viz.notation import to_ascii

    return text if encodable(text) else to_ascii(text)


def build_parser(command=None):
    parser = Parser(
        prog="python -m chainrule",
        description="chainrule: automatic differentiation and deep learning on NumPy.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module, help_text) in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        importlib.import_module(module).register(sub)
    if command in sub.choices:
        # argparse reports a stray "-x*y" from the top-level parser: it needs the command's hint too
        parser.dash_hint = sub.choices[command].dash_hint
    return parser


# ---- Ctrl-C ----------------------------------------------------------------------------------------
_running = False  # main() is inside its try block: a Ctrl-C is a KeyboardInterrupt the command reports


def _on_interrupt(signum, frame):
    if not _running:  # still importing (numpy, the command's module): one line, no traceback
        print("python -m chainrule: interrupted at start-up; nothing was written", file=sys.stderr)
        raise SystemExit(130)
    raise KeyboardInterrupt


def install_interrupt_handler():
    """Make Ctrl-C end the command line with one line on stderr and exit code 130, never a traceback.

    Installed first thing by ``main`` (and, under ``python -m chainrule``, before the package's own
    imports); each command says what it had written when interrupted. Returns the handler it replaced.
    Nothing changes where Ctrl-C is ignored (a background job) or off the main thread.

    >>> import signal
    >>> old = install_interrupt_handler()
    >>> signal.getsignal(signal.SIGINT).__name__ in ("_on_interrupt", "default_int_handler", "SIG_IGN")
    True
    >>> _ = signal.signal(signal.SIGINT, old)
    """
    if threading.current_thread() is not threading.main_thread():
        return signal.getsignal(signal.SIGINT)
    old = signal.getsignal(signal.SIGINT)
    if old is signal.SIG_IGN or old is None:
        return old
    signal.signal(signal.SIGINT, _on_interrupt)
    return old


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    global _running
    old = install_interrupt_handler()
    command = None
    try:
        _running = True
        argv = list(sys.argv[1:] if argv is None else argv)
        command = argv[0] if argv and argv[0] in COMMANDS else None
        parser = build_parser(command)
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except KeyboardInterrupt:  # one the command did not report itself: it had written nothing
        name = "python -m chainrule" + (f" {command}" if command else "")
        print(f"{name}: interrupted; nothing was written", file=sys.stderr)
        return 130
    finally:
        _running = False
        if old is not None and threading.current_thread() is threading.main_thread():
            # as it was, for a caller that runs main() in its own process; the start-up handler has had its turn
            signal.signal(signal.SIGINT, signal.default_int_handler if old is _on_interrupt else old)
