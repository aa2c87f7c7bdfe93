"""A PNG's pixels are bounded: the size is read from the layout before any pixel is drawn."""

import struct

import pytest

import chainrule as cr
from chainrule.viz.render import MAX_PNG_PIXELS, GraphTooLarge, check_pixels, render


def _png_size(data):
    return struct.unpack(">II", data[16:24])


def test_the_estimate_is_the_size_graphviz_pure_draws():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.sum(cr.sin(x) * x)
    y.backward()
    dot = cr.viz.to_dot(y)
    width, height = _png_size(render(dot, "png"))
    with pytest.raises(GraphTooLarge) as info:
        check_pixels(dot, render(dot, "svg"), max_pixels=width * height - 3 * (width + height))
    assert abs(info.value.pixels - width * height) <= 2 * (width + height)  # within a pixel each way
    check_pixels(dot, render(dot, "svg"), max_pixels=width * height + 2 * (width + height))


def test_a_huge_png_is_refused_and_the_svg_still_draws(tmp_path):
    # one very wide rank: 400 long labels side by side, cheap to lay out, far over the budget as a PNG
    dot = "digraph { rankdir=LR; " + " ".join(f'n{i} [label="{"w" * 200}"];' for i in range(400)) + " }"
    with pytest.raises(GraphTooLarge, match=r"megapixel limit.*SVG"):
        cr.viz.draw(dot, tmp_path / "g.png")
    assert list(tmp_path.iterdir()) == []
    assert cr.viz.draw(dot, tmp_path / "g.svg").data.startswith(b"<?xml")
    assert MAX_PNG_PIXELS == 30_000_000


def test_the_dpi_of_the_dot_text_counts():
    svg = b'<svg width="3000pt" height="3000pt"'
    check_pixels("digraph { a }", svg)  # 4,000 x 4,000 at 96 dpi: 16 megapixels
    with pytest.raises(GraphTooLarge, match="8,333 x 8,333"):
        check_pixels("digraph { dpi=200; a }", svg)
