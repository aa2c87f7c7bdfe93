"""Draw the docs' pictures (docs/img/*.svg): the tutorial's from the explanations its own code computes,
the architecture's layers from the import-linter contract.

    python docs/make_images.py             # run docs/tutorial.md's code, write docs/img/*.svg
    python docs/make_images.py --outputs   # also refresh the printed tables in docs/tutorial.md

Each picture is drawn from a variable that the tutorial's code defines, so the pictures
show exactly the computations the text walks through. ``--outputs`` rewrites every
```text block that directly follows a ```python block with what that code prints
(tests/test_docs.py checks that they agree).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the chainrule of this checkout, not an installed one

TUTORIAL = DOCS / "tutorial.md"
PICTURES = {  # docs/img/<file>: (the tutorial's variable, options for cr.viz.draw)
    "xyz.svg": ("ex_xyz", {}),
    "branch.svg": ("ex_branch", {}),
    "dag.svg": ("ex_dag", {}),
    "norm.svg": ("ex_norm", {}),
    "logistic.svg": ("ex_logistic", {}),
    "log_loss.svg": ("ex_logloss", {}),
    "exp_over_square.svg": ("ex_exp", {}),
    "two_layer.svg": ("ex_net", {"rankdir": "TB"}),
    "wide.svg": ("ex_wide", {}),
    "tall.svg": ("ex_tall", {}),
    "edf_mlp.svg": ("ex_mlp", {"rankdir": "TB", "precision": 3}),
    "tape.svg": ("loss", {"names": ("xt", "x", "Wt", "W")}),  # names: the tutorial's Tensors, by variable
}


def blocks(lines):
    """Fenced blocks as ``(info, first, last)``: the fence's info string and the line numbers of the fences."""
    found, start, info = [], None, None
    for k, line in enumerate(lines):
        if line.startswith("```"):
            if start is None:
                start, info = k, line[3:].strip()
            else:
                found.append((info, start, k))
                start = None
    return found


def run_blocks(path, lines, folder):
    """Run every ```python block of ``path`` in order, in one namespace, inside ``folder``.

    Returns the namespace and ``{line of the block's fence: what the block printed}``.
    """
    namespace, printed = {"__name__": "docs"}, {}
    here = os.getcwd()
    os.chdir(folder)
    try:
        for info, first, last in blocks(lines):
            if info != "python":
                continue
            # Blank lines in front keep the Markdown's line numbers in tracebacks.
            code = compile("\n" * (first + 1) + "\n".join(lines[first + 1 : last]), str(path), "exec")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(code, namespace)  # noqa: S102 - running the tutorial's own examples is this script's job
            printed[first] = out.getvalue()
    finally:
        os.chdir(here)
    return namespace, printed


def refresh_outputs(lines, printed):
    """The tutorial with each ```text block after a ```python block replaced by that code's output."""
    found = blocks(lines)
    for (info, first, last), (next_info, next_first, next_last) in reversed(list(itertools.pairwise(found))):
        between = lines[last + 1 : next_first]
        if info == "python" and next_info == "text" and all(not line.strip() for line in between):
            lines[next_first + 1 : next_last] = printed[first].rstrip("\n").split("\n")
    return lines


def tutorial_namespace(folder=None):
    """Run the tutorial's code (in a scratch folder unless ``folder``): its namespace and what each block printed."""
    lines = TUTORIAL.read_text(encoding="utf-8").split("\n")
    if folder is not None:
        return run_blocks(TUTORIAL, lines, folder)
    with tempfile.TemporaryDirectory() as scratch:
        return run_blocks(TUTORIAL, lines, scratch)


def _options(namespace, options):
    options = dict(options)
    if "names" in options:  # ("xt", "x", ...): the tutorial's variable, then the name its picture gives it
        pairs = options["names"]
        options["names"] = {namespace[pairs[k]]: pairs[k + 1] for k in range(0, len(pairs), 2)}
    return options


def sources(namespace):
    """``{file name: DOT text}`` of every picture, drawn from the tutorial's variables."""
    from chainrule.viz import to_dot

    return {name: to_dot(namespace[var], **_options(namespace, opts)) for name, (var, opts) in PICTURES.items()}


def layers_dot():
    """DOT text of docs/architecture.md's picture: the layers of the import-linter contract in pyproject.toml,
    top to bottom, siblings side by side (``:`` may import each other, ``|`` are independent)."""
    import tomllib

    contract = tomllib.loads((DOCS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c["layers"] for c in contract["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    lines = ["digraph layers {",
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];',
             '  edge [color="#888888"];']
    for k, layer in enumerate(layers):
        separator = ":" if ":" in layer else "|"
        names = [n.strip() for n in layer.split(separator)]
        joined = " : " if separator == ":" else "  |  "
        lines.append(f'  L{k} [label="{joined.join(names)}"];')
        if k:
            lines.append(f"  L{k - 1} -> L{k};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def pictures(namespace):
    """``{file name: SVG bytes}``: what docs/img must hold."""
    from chainrule.viz import render

    drawn = {name: render(source, "svg") for name, source in sources(namespace).items()}
    drawn["layers.svg"] = render(layers_dot(), "svg")
    return drawn


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", action="store_true", help="also rewrite the printed tables in tutorial.md")
    args = parser.parse_args(argv)
    from chainrule.viz import write_atomic

    lines = TUTORIAL.read_text(encoding="utf-8").split("\n")
    namespace, printed = tutorial_namespace()
    (DOCS / "img").mkdir(exist_ok=True)
    for name, data in pictures(namespace).items():
        write_atomic(DOCS / "img" / name, data)
        print(f"wrote {(DOCS / 'img' / name).relative_to(DOCS.parent)}")
    if args.outputs:
        TUTORIAL.write_text("\n".join(refresh_outputs(lines, printed)), encoding="utf-8")
        print(f"refreshed the printed output in {TUTORIAL.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
