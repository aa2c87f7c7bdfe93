"""cr.viz.draw: SVG is valid XML with one shape per node, PNG is a valid image, files are written atomically."""

import importlib
import os
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import viz
from chainrule.explain import explain

from .dotparse import parse

render_module = importlib.import_module("chainrule.viz.render")  # the module (cr.viz.render is the function)

SVG = "{http://www.w3.org/2000/svg}"
SHAPES = {SVG + "ellipse", SVG + "polygon", SVG + "path", SVG + "polyline", SVG + "rect"}


def example():
    return explain(lambda x1, x2: x1 * x2 + cr.sin(x2), 2.0, 5.0)


def groups(root, cls):
    return [g for g in root.iter(SVG + "g") if g.get("class") == cls]


def test_svg_is_valid_xml_with_one_shape_per_node(tmp_path):
    ex = example()
    drawing = viz.draw(ex, tmp_path / "g.svg")
    assert drawing.path == os.fspath(tmp_path / "g.svg") and drawing.format == "svg"
    root = ET.parse(drawing.path).getroot()  # raises on invalid XML
    _, nodes, edges = parse(drawing.source)
    node_groups = groups(root, "node")
    assert len(node_groups) == len(nodes) == 5
    for g in node_groups:
        assert sum(1 for child in g if child.tag in SHAPES) == 1
    assert {g.get("id") for g in node_groups} == set(nodes)  # each shape carries its node's name
    assert len(groups(root, "edge")) == len(edges) == 5
    assert drawing._repr_svg_() == (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert drawing._repr_png_() is None


def test_png_is_a_valid_image(tmp_path):
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    drawing = viz.draw(cr.sum(x * x), tmp_path / "g.png")
    data = (tmp_path / "g.png").read_bytes()
    assert data == drawing.data and drawing._repr_png_() == data and drawing._repr_svg_() is None
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert width > 10 and height > 10
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(data[12:29])
    assert data.endswith(b"IEND\xaeB`\x82")


def test_dot_suffix_and_in_memory_drawing(tmp_path):
    ex = example()
    d = viz.draw(ex, tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text(encoding="utf-8") == viz.to_dot(ex)
    mem = viz.draw(ex)
    assert mem.path is None and mem.format == "svg" and mem.data.startswith(b"<?xml")
    assert "svg" in repr(mem) and "g.dot" in repr(d)
    png = viz.draw(viz.to_dot(ex), tmp_path / "picture", format="png")
    assert png.data[:4] == b"\x89PNG"


def test_bad_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.dot"):
        viz.draw(example(), tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="format"):
        viz.draw(example(), format="gif")
    with pytest.raises(TypeError):
        viz.draw("digraph { a }", rankdir="TB")
    assert list(tmp_path.iterdir()) == []


def test_renderer_errors_are_reported():
    with pytest.raises(RuntimeError, match="graphviz-pure could not draw"):
        render_module.render("digraph { a -> ", "svg")


def test_missing_renderer_says_how_to_install(monkeypatch):
    def missing(name):
        raise render_module.importlib.metadata.PackageNotFoundError(name)

    render_module.find_renderer.cache_clear()
    monkeypatch.setattr(render_module.importlib.metadata, "distribution", missing)
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    try:
        with pytest.raises(RuntimeError, match="pip install 'graphviz-pure"):
            render_module.find_renderer()
        assert viz.to_dot(example())._repr_svg_() is None  # Jupyter then shows the text
    finally:
        render_module.find_renderer.cache_clear()


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "g.svg"
    target.write_bytes(b"old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(render_module.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        viz.draw(example(), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]  # no temporary file left behind
    monkeypatch.undo()
    viz.draw(example(), target)
    assert target.read_bytes().startswith(b"<?xml") and oct(target.stat().st_mode & 0o777) == "0o644"


def test_write_errors_name_the_path_not_the_temporary_file(tmp_path, monkeypatch):
    missing = tmp_path / "nodir" / "g.svg"
    with pytest.raises(FileNotFoundError) as info:
        viz.draw(example(), missing)
    assert str(info.value) == f"cannot write {missing}: the folder {missing.parent} does not exist"

    def denied(src, dst):
        raise PermissionError(13, "Permission denied", src)  # as the OS reports it: naming the temporary file

    monkeypatch.setattr(render_module.os, "replace", denied)
    with pytest.raises(PermissionError) as info:
        viz.draw(example(), tmp_path / "g.svg")
    assert str(info.value) == f"cannot write {tmp_path / 'g.svg'}: Permission denied" and info.value.errno == 13
    assert list(tmp_path.iterdir()) == []


def _fan_out(steps, keep):
    """z = sin(z) + x, ``steps`` times: x feeds every step, so its edges span the whole layout."""
    x = cr.tensor(1.0, requires_grad=True)
    keep.append(x)
    z = x
    for _ in range(steps):
        z = cr.sin(z) + x
    return z


def test_layout_size_counts_the_bend_points_of_long_edges():
    assert viz.layout_size("digraph { x -> a; a -> b; x -> b }") == (3, 3, 4)
    # a labelled edge spanning 2 ranks places its label and 2 bend points (labels double the spacing)
    assert viz.layout_size('digraph { "x" -> a -> b; x -> b [label="a -> b"]; c; }') == (4, 3, 7)
    assert viz.layout_size('digraph { x -> a [label="1"]; a -> b [color=red]; }') == (3, 2, 4)
    keep = []
    chain = cr.tensor(1.0, requires_grad=True)
    keep.append(chain)
    for _ in range(300):
        chain = cr.sin(chain)
    assert viz.layout_size(viz.to_dot(chain)) == (301, 300, 301)  # a chain: no bends
    assert viz.layout_size(viz.to_dot(_fan_out(100, keep))) == (201, 300, 201 + 100**2)


def test_a_graph_too_big_to_lay_out_soon_is_refused_at_once(tmp_path, monkeypatch):
    import time

    calls = []
    monkeypatch.setattr(render_module.subprocess, "run", lambda *a, **k: calls.append(a))
    keep = []
    z = _fan_out(100, keep)  # took 31 s to draw (graphviz-pure 0.2); a 200-step one ran past the 60 s timeout
    t0 = time.perf_counter()
    with pytest.raises(viz.GraphTooLarge) as refused:
        viz.draw(z, tmp_path / "g.svg")
    assert time.perf_counter() - t0 < 5 and calls == []  # refused before the renderer starts
    message = str(refused.value)
    assert "201 nodes and 300 edges" in message and "10,201 places to lay out" in message
    assert "would take very long" in message and ".dot path" in message and "max_nodes=None" in message
    assert not (tmp_path / "g.svg").exists()
    assert viz.draw(z, tmp_path / "g.dot").format == "dot"  # the DOT text is always written
    with pytest.raises(viz.GraphTooLarge):
        viz.to_dot(z).render("png")
    assert viz.to_dot(z)._repr_svg_() is None  # Jupyter shows the text instead of hanging
    monkeypatch.undo()
    small = _fan_out(20, keep)
    assert viz.draw(small, max_nodes=viz.layout_size(viz.to_dot(small))[2]).format == "svg"  # at the limit
    with pytest.raises(viz.GraphTooLarge):
        viz.draw(small, max_nodes=100)
    assert viz.draw(small, max_nodes=None).data.startswith(b"<?xml")  # no limit
