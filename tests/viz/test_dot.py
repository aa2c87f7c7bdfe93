"""cr.viz.to_dot: the DOT text parses, names every node and edge, and shows what the graph knows."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import explain
from chainrule.viz import STYLES, DotSource, to_dot

from .dotparse import parse


def f_xyz(x, y, z):
    return (x + y) * z


def test_explanation_graph_names_every_node_and_edge():
    ex = explain(f_xyz, -2.0, 5.0, -4.0)
    src = to_dot(ex)
    assert isinstance(src, DotSource) and isinstance(src, str)
    graph, nodes, edges = parse(src)
    assert set(nodes) == {"v1", "v2", "v3", "v4", "v5"}
    assert [(a, b) for a, b, _ in edges] == [("v1", "v4"), ("v2", "v4"), ("v4", "v5"), ("v3", "v5")]
    assert all(attrs.get("id") for _, _, attrs in edges)  # every edge is named too
    assert nodes["v4"]["label"] == "v4 = v1 + v2\n3\nv̄4 = -4"
    assert nodes["v1"]["label"] == "v1 = x\n-2\nv̄1 = -4"
    assert nodes["v5"]["penwidth"] == "2.5"  # the output stands out
    assert [attrs["label"] for _, _, attrs in edges] == ["-4", "-4", "-4", "3"]  # each edge's share v̄j·∂vj/∂vi
    assert "reverse mode" in graph["label"]


def test_explanation_graph_styles_kinds_and_constants():
    W = cr.tensor(np.ones((2, 2)), requires_grad=True)

    def f(x, t):
        return cr.sum((W @ x - t) ** 2) * 0.5

    ex = explain(f, np.array([1.0, 2.0]), np.array([0.0, 1.0]), argnums=0)
    _, nodes, edges = parse(to_dot(ex))
    kinds = {r.name: r.kind for r in ex.forward}
    assert kinds == {
        "v1": "input",
        "v2": "data",
        "v3": "parameter",
        "v4": "operation",
        "v5": "operation",
        "v6": "operation",
        "v7": "operation",
        "v8": "operation",
    }
    for name, kind in kinds.items():
        assert nodes[name]["shape"] == STYLES[kind]["shape"] and nodes[name].get("fillcolor") == STYLES[kind].get(
            "fillcolor"
        )
    constants = [n for n in nodes if n.startswith("c")]
    assert len(constants) == 2 and {nodes[c]["label"] for c in constants} == {"2", "0.5"}
    operand_count = sum(len(r.inputs) for r in ex.forward)
    assert len(edges) == operand_count
    assert all(a in nodes and b in nodes for a, b, _ in edges)


def test_forward_mode_graph_shows_tangents():
    ex = explain(f_xyz, -2.0, 5.0, -4.0, mode="forward")
    _, nodes, _ = parse(to_dot(ex, rankdir="TB"))
    assert nodes["v5"]["label"].endswith("v̇5 = -4")


def test_tensor_graph_before_and_after_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor(3.0, requires_grad=True)
    y = cr.sum(cr.exp(x) * w + 1.0)
    _, nodes, edges = parse(to_dot(y, names={x: "x", w: "w"}))
    labels = [a["label"] for a in nodes.values()]
    assert sum(1 for n in nodes if n.startswith("n")) == 6  # x, w, exp, multiply, add, sum
    assert any(label.startswith("exp\n(2,) float64\n[2.718, 7.389]") for label in labels)  # saved output
    assert any(label.startswith("x\n") for label in labels) and any(label.startswith("w\n") for label in labels)
    assert "constant" in labels  # add keeps no operands on the tape, so the constant's value is unknown
    _, small, _ = parse(to_dot(x * 2.0))
    assert "2" in [a["label"] for a in small.values()]  # multiply keeps them: the value is shown
    assert len(edges) == 6 and all(a in nodes and b in nodes for a, b, _ in edges)
    y.backward()
    _, nodes, _ = parse(to_dot(y, names={x: "x", w: "w"}))
    x_label = next(a["label"] for a in nodes.values() if a["label"].startswith("x\n"))
    assert x_label.endswith("grad = [8.155, 22.17]")


def test_tensor_graph_accepts_gradients_of_intermediates():
    x = cr.tensor(2.0, requires_grad=True)
    h = x * x
    y = cr.sin(h)
    (gh,) = cr.autograd.grad(y, [h], retain_graph=True)
    _, nodes, _ = parse(to_dot(y, grads={h: gh}))
    mult = next(a for a in nodes.values() if a["label"].startswith("multiply"))
    assert mult["label"].endswith(f"grad = {np.cos(4.0):.4g}")


def test_parameters_look_different_from_inputs():
    class Parameter(cr.Tensor):
        pass

    p = Parameter(np.ones(2), requires_grad=True)
    x = cr.tensor(np.ones(2), requires_grad=True)
    _, nodes, _ = parse(to_dot(cr.sum(p * x)))
    fills = sorted(a["fillcolor"] for a in nodes.values() if a["shape"] == "box")
    assert fills == sorted([STYLES["parameter"]["fillcolor"], STYLES["input"]["fillcolor"]])


def test_labels_are_escaped():
    x = cr.tensor(1.0, requires_grad=True)
    name = 'a "quoted" \\ name'
    _, nodes, _ = parse(to_dot(x * 2, names={x: name}))
    assert any(a["label"].startswith(name + "\n") for a in nodes.values())


def test_constant_output_and_bad_input():
    _, nodes, edges = parse(to_dot(cr.tensor([1.0, 2.0])))
    assert list(nodes) == ["c1"] and edges == []
    with pytest.raises(TypeError, match="to_dot"):
        to_dot(3.0)


def test_dot_source_shows_inline_in_jupyter():
    svg = to_dot(explain(f_xyz, -2.0, 5.0, -4.0))._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
