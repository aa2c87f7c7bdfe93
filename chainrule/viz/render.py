"""Turn DOT text into SVG or PNG with graphviz-pure (Graphviz ported to Rust: a pip install, no system package)."""

from __future__ import annotations

import errno
import functools
import importlib.metadata
import os
import re
import shutil
import subprocess
import tempfile

__all__ = ["FORMATS", "MAX_NODES", "GraphTooLarge", "find_renderer", "layout_size", "render", "write_atomic"]

FORMATS = ("svg", "png")
TIMEOUT_S = 60
_EXECUTABLES = ("graphviz-pure", "graphviz-pure.exe")

# The most nodes and bend points a layout may place before drawing is refused up front: the dot layout
# places every edge that spans k ranks as k - 1 bend points (2k - 2 and a label if labelled), and its
# time grows steeply with all of them together. 8,000 keeps drawing near 10 s (timings: docs/performance.md).
MAX_NODES = 8000
_ID = r'"(?:[^"\\]|\\.)*"|[\w.]+'  # a quoted or plain DOT identifier
_ATTRIBUTES = re.compile(r'\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\]')  # [label="a -> b", ...]
_EDGE_LABEL = re.compile(r"(?:^|[\s,\[])(?:x|head|tail)?label\s*=")
_NODE = re.compile(rf"(?:^|[{{;])\s*({_ID})\s*(?=;|$|\}})", re.MULTILINE)
_KEYWORDS = {"graph", "node", "edge", "digraph", "subgraph", "strict"}


class GraphTooLarge(RuntimeError):
    """A graph whose layout would take very long: refused before rendering (pass ``max_nodes=None`` to draw it).

    ``summary`` says how large it is and why that is too large; ``str()`` adds what to do instead.
    """

    def __init__(self, summary, advice):
        super().__init__(f"{summary}. {advice}")
        self.summary = summary


def layout_size(dot_source: str):
    """``(nodes, edges, layout_nodes)`` of DOT text: what the dot layout places, bend points of long edges
    included, estimated by ranking each node one below its furthest input and each source (an input, a
    constant) just above its first use, as the layout's edge-length minimisation does.

    >>> layout_size('digraph { x -> a; a -> b; x -> b }')  # x -> b spans 2 ranks: one bend point
    (3, 3, 4)
    """
    # each statement's attribute list, kept aside: labels and ids may hold anything, "->" too
    attributes = []

    def keep(m):
        attributes.append(m.group(0))
        return f"\x00{len(attributes) - 1}\x00"

    text = _ATTRIBUTES.sub(keep, dot_source)

    def name(ident):
        return ident[1:-1] if ident.startswith('"') else ident

    edges, labelled = [], []
    for statement in re.split(r"[;{}\n]", text):  # a -> b -> c is two edges
        if "->" not in statement:
            continue
        ref = re.search(r"\x00(\d+)\x00", statement)
        has_label = ref is not None and _EDGE_LABEL.search(attributes[int(ref.group(1))]) is not None
        ids = re.findall(_ID, re.sub(r"\x00\d+\x00", " ", statement))
        for a, b in zip(ids, ids[1:]):
            edges.append((name(a), name(b)))
            labelled.append(has_label)
    text = re.sub(r"\x00\d+\x00", ";", text)
    nodes = {name(n) for n in _NODE.findall(text) if n not in _KEYWORDS}
    nodes.update(n for e in edges for n in e)
    succ = {n: [] for n in nodes}
    indegree = dict.fromkeys(nodes, 0)
    for a, b in edges:
        succ[a].append(b)
        indegree[b] += 1
    order, ready = [], [n for n in nodes if indegree[n] == 0]
    while ready:  # Kahn's algorithm: a topological order, or a shorter list when there is a cycle
        n = ready.pop()
        order.append(n)
        for m in succ[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    if len(order) < len(nodes):
        return len(nodes), len(edges), len(nodes) + len(edges)  # a cycle: no ranks to estimate
    rank = dict.fromkeys(nodes, 0)
    for n in order:
        for m in succ[n]:
            rank[m] = max(rank[m], rank[n] + 1)
    has_input = {b for _, b in edges}
    for n in nodes:
        if n not in has_input and succ[n]:
            rank[n] = min(rank[m] for m in succ[n]) - 1
    placed = len(nodes)
    for (a, b), has_label in zip(edges, labelled):
        span = max(rank[b] - rank[a], 1)
        placed += 2 * span - 1 if has_label else span - 1  # a label (and the doubled spacing), or bend points
    return len(nodes), len(edges), placed


def check_size(dot_source: str, max_nodes=MAX_NODES) -> None:
    """Raise :class:`GraphTooLarge` when the layout of ``dot_source`` would place more than ``max_nodes``
    nodes and bend points (see :data:`MAX_NODES`); ``max_nodes=None`` checks nothing."""
    if max_nodes is None:
        return
    nodes, edges, placed = layout_size(dot_source)
    if placed > max_nodes:
        bends = f", and its long edges add {placed - nodes:,} bend points" if placed > nodes else ""
        raise GraphTooLarge(
            f"this graph has {nodes:,} nodes and {edges:,} edges{bends}: {placed:,} places to lay out, over "
            f"the {max_nodes:,} that draw in seconds, so drawing it would take very long",
            "Write the DOT text instead (a .dot path) and view it with a Graphviz viewer, draw a smaller part "
            "of the computation, or pass max_nodes=None to draw it anyway",
        )


@functools.lru_cache(maxsize=1)
def find_renderer() -> str:
    """Path of the ``graphviz-pure`` executable that the ``graphviz-pure`` wheel installs.

    The wheel's own file list is asked first, so the executable is found even when
    the environment's ``bin`` folder is not on PATH (a venv that was not activated).
    """
    try:
        files = importlib.metadata.distribution("graphviz-pure").files or ()
    except importlib.metadata.PackageNotFoundError:
        files = ()
    for f in files:
        if f.name in _EXECUTABLES:
            path = f.locate()
            if os.path.isfile(path):
                return os.fspath(path)
    found = shutil.which("graphviz-pure")
    if found is None:
        raise RuntimeError("drawing needs graphviz-pure, which is not installed: pip install 'graphviz-pure>=0.2.2'")
    return found


def render(dot_source: str, fmt: str = "svg", max_nodes=MAX_NODES) -> bytes:
    """Lay out and draw ``dot_source``; ``fmt`` is ``"svg"`` or ``"png"``.

    A graph whose layout would take very long (more than ``max_nodes`` nodes and bend points, see
    :data:`MAX_NODES`) is refused with :class:`GraphTooLarge` before the renderer starts;
    ``max_nodes=None`` draws it anyway. Failure is judged by the exit code only: the renderer also
    prints harmless warnings (e.g. about the width of non-ASCII characters such as v̄). A PNG over
    :data:`MAX_PNG_PIXELS` is refused with :class:`GraphTooLarge` once laid out, before it is drawn.
    """
    if fmt not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    check_size(dot_source, max_nodes)
    if fmt == "png":  # its size is known once laid out: the SVG says it, before any pixel is drawn
        check_pixels(dot_source, _run(dot_source, "svg"))
    return _run(dot_source, fmt)


# A PNG is drawn whole in memory: a 33,467 x 9,084 picture (an 80-term expression) took 16 s and 2.4 GB.
# 30 megapixels is a 7,000 x 4,300 picture, more than any screen shows at once.
MAX_PNG_PIXELS = 30_000_000
_SVG_SIZE = re.compile(rb'<svg\s[^>]*?width="([\d.]+)pt"\s+height="([\d.]+)pt"')
_DPI = re.compile(r'\b(?:dpi|resolution)\s*=\s*"?([\d.]+)')


def check_pixels(dot_source: str, svg: bytes, max_pixels=MAX_PNG_PIXELS) -> None:
    """Raise :class:`GraphTooLarge` when the PNG of ``dot_source``, laid out as ``svg``, would have more
    than ``max_pixels`` pixels (points at the DOT's dpi, 96 by default).

    >>> svg = b'<svg width="7200pt" height="7200pt" viewBox="0 0 7200 7200">'
    >>> check_pixels("digraph { a }", svg)
    Traceback (most recent call last):
    ...
    chainrule.viz.render.GraphTooLarge: the PNG would be 9,600 x 9,600 pixels (92 megapixels), over the \
30-megapixel limit. Draw it as SVG (a .svg path), which has no such limit, or write the DOT text (a .dot path)
    """
    found = _SVG_SIZE.search(svg)
    if found is None:
        return
    dpi = max([96.0] + [float(d) for d in _DPI.findall(dot_source) if d.replace(".", "", 1).isdigit()])
    width, height = (round(float(v) * dpi / 72) for v in found.groups())
    if width * height > max_pixels:
        error = GraphTooLarge(
            f"the PNG would be {width:,} x {height:,} pixels ({width * height / 1e6:.0f} megapixels), over the "
            f"{max_pixels / 1e6:.0f}-megapixel limit",
            "Draw it as SVG (a .svg path), which has no such limit, or write the DOT text (a .dot path)",
        )
        error.pixels = width * height  # an SVG of the same graph draws: callers may suggest one
        raise error


def _run(dot_source: str, fmt: str) -> bytes:
    try:
        proc = subprocess.run(
            [find_renderer(), "-Kdot", f"-T{fmt}"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"graphviz-pure took longer than {TIMEOUT_S} s to draw this graph; draw a smaller "
            f"graph, or write the DOT text (a .dot path) and render it elsewhere"
        ) from None
    except OSError as e:
        raise RuntimeError(f"could not run graphviz-pure: {e}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit code {proc.returncode}"
        raise RuntimeError(f"graphviz-pure could not draw the graph: {message}")
    return proc.stdout


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file in the same folder, then a rename.

    A failure part-way leaves any earlier file at ``path`` as it was; errors name ``path``, never the
    temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _no_folder(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:  # the error would name the temporary file; the user knows the path they gave
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp makes the file private (0600); give it the old file's mode, or the usual 0644.
        os.chmod(tmp, os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise _naming(e, path) from None
        raise


def _no_folder(path):
    """The error for a path whose folder is missing, or is a file (``g.svg/x.svg``)."""
    shown = os.path.dirname(path) or os.curdir
    part = shown
    while part and not os.path.lexists(part):
        part = os.path.dirname(part)
    if part and not os.path.isdir(part):
        error = NotADirectoryError(f"cannot write {path}: {part} is a file, not a folder")
        error.errno = errno.ENOTDIR
    else:
        error = FileNotFoundError(f"cannot write {path}: the folder {shown} does not exist")
        error.errno = errno.ENOENT
    return error


def _naming(error, path):
    """The same kind of OSError (same errno), saying which path could not be written and why."""
    named = type(error)(f"cannot write {path}: {error.strerror or error}")
    named.errno = error.errno  # str() stays the message: it is built from args, which hold only the text
    return named
