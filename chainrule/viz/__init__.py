"""Pictures of computation graphs: ``to_dot`` writes Graphviz DOT, ``draw`` renders SVG or PNG (no system Graphviz).

>>> import chainrule as cr
>>> ex = cr.explain(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
>>> picture = cr.viz.draw(ex)          # an SVG in memory; draw(ex, "g.svg") also writes it
>>> picture.format, picture.data[:5]
('svg', b'<?xml')
"""

from __future__ import annotations

import os

from .dot import STYLES, DotSource, to_dot
from .render import FORMATS, MAX_NODES, GraphTooLarge, find_renderer, layout_size, render, write_atomic
from .tape import record

__all__ = [
    "STYLES",
    "SUFFIXES",
    "DotSource",
    "Drawing",
    "GraphTooLarge",
    "MAX_NODES",
    "draw",
    "find_renderer",
    "format_of",
    "layout_size",
    "record",
    "render",
    "to_dot",
]

SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}  # what draw writes, by the path's suffix


def format_of(path):
    """The format ``draw`` writes to ``path`` ("svg", "png" or "dot"), or None for a suffix it does not know.

    >>> format_of("graph.SVG"), format_of("graph.jpg")
    ('svg', None)
    """
    return SUFFIXES.get(os.path.splitext(os.fspath(path))[1].lower())


class Drawing:
    """A rendered graph: ``path`` (None when not written), ``format``, the bytes in ``data``, the DOT ``source``.

    Jupyter shows it inline (``_repr_svg_`` / ``_repr_png_``).
    """

    __slots__ = ("data", "format", "path", "source")

    def __init__(self, path, fmt, data, source):
        self.path = path
        self.format = fmt
        self.data = data
        self.source = source

    def _repr_svg_(self):
        return self.data.decode("utf-8") if self.format == "svg" else None

    def _repr_png_(self):
        return self.data if self.format == "png" else None

    def __repr__(self):
        where = f" at {self.path}" if self.path else ""
        return f"<Drawing {self.format}, {len(self.data)} bytes{where}>"


def draw(obj, path=None, *, format=None, max_nodes=MAX_NODES, **options):
    """Render the graph behind ``obj`` (a Tensor, an explanation, or DOT text) and write it to ``path``.

    The format follows the suffix: ``.svg``, ``.png``, or ``.dot``/``.gv`` for the DOT text itself;
    ``format=`` overrides it, and with no ``path`` nothing is written (an SVG by default, for Jupyter).
    The file is written atomically. ``options`` go to :func:`to_dot` (``grads``, ``names``, ``rankdir``,
    ``precision``, ``max_size``, ``title``). Rendering uses the ``graphviz-pure`` package, which
    ``pip install chainrule`` brings along; no system Graphviz is needed.

    Laying out a big graph takes very long (minutes for a few hundred nodes where one value feeds many
    steps), so an SVG or PNG whose layout would place more than ``max_nodes`` nodes and bend points
    (:data:`MAX_NODES`, measured to draw within about 10 s; see :func:`layout_size`) raises
    :class:`GraphTooLarge` at once, saying how large it is; ``max_nodes=None`` draws it anyway, and a
    ``.dot`` path is always written.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> d = cr.viz.draw(cr.sum(x * x), format="png")
    >>> d.data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    if hasattr(obj, "__chainrule_graph__"):  # an EDF graph (chainrule.edf): drawn as its explanation
        from ..explain import explain  # lazily, as to_dot does: chainrule.explain imports this package
        obj = explain(obj)
    if format is None:
        if path is None:
            format = "svg"
        else:
            format = format_of(path)
            if format is None:
                raise ValueError(
                    f"draw: cannot tell the format from {os.fspath(path)!r}; use a .svg, .png or .dot "
                    f"path, or pass format='svg'"
                )
    if format not in FORMATS + ("dot",):
        raise ValueError(f"draw: format must be 'svg', 'png' or 'dot', got {format!r}")
    if isinstance(obj, str):
        if options:
            raise TypeError("draw: options apply to Tensors and explanations, not to DOT text")
        source = DotSource(obj)
    else:
        source = to_dot(obj, **options)
    data = source.encode("utf-8") if format == "dot" else render(source, format, max_nodes=max_nodes)
    if path is not None:
        write_atomic(path, data)
    return Drawing(None if path is None else os.fspath(path), format, data, source)
