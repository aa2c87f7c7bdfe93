"""cr.viz.to_dot: the DOT text parses, names every node and edge, and shows what the graph knows."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import explain, format_value
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


def labels_of(src):
    _, nodes, _ = parse(src)
    return {n: a["label"] for n, a in nodes.items()}


def op_label(labels, head):
    return next(label for label in labels.values() if label.split("\n")[0] == head)


def test_tensor_graph_before_and_after_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor(3.0, requires_grad=True)
    y = cr.sum(cr.exp(x) * w + 1.0)
    graph, nodes, edges = parse(to_dot(y, names={x: "x", w: "w"}))
    labels = {n: a["label"] for n, a in nodes.items()}
    assert sum(1 for n in nodes if n.startswith("n")) == 6  # x, w, exp, multiply, add, sum
    assert op_label(labels, "exp") == "exp\n(2,) float64\n[2.718, 7.389]"  # saved output
    assert op_label(labels, "multiply") == "multiply\n(2,) float64\n[8.155, 22.17]"  # recomputed from saved inputs
    assert labels["n1"].startswith("x\n") and labels["n2"].startswith("w\n")
    # add saves nothing, so the tape never had its constant: the picture says so, and how to see it
    assert "constant\n(not kept by the tape)" in labels.values() and "cr.viz.record()" in graph["label"]
    assert "grad" not in "".join(labels.values())  # no backward yet
    assert len(edges) == 6 and all(a in nodes and b in nodes for a, b, _ in edges)
    y.backward()
    labels = labels_of(to_dot(y, names={x: "x", w: "w"}))
    assert labels["n1"].endswith("grad = [8.155, 22.17]") and op_label(labels, "sum").endswith("grad = 1")


def test_a_recorded_tensor_graph_shows_every_value_and_gradient_after_backward():
    def build():
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        W = cr.nn.Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
        b = cr.tensor(np.array([1.0, -6.0]))
        z = W @ x + b
        return x, W, z, cr.sum(cr.tanh(z) * 3.0)

    with cr.viz.record():
        x, W, _, y = build()
    h = W.data @ x.data + np.array([1.0, -6.0])
    y.backward()  # frees the tape: the recorded values remain
    labels = labels_of(to_dot(y, names={x: "x", W: "W"}))
    heads = {label.split("\n")[0]: label for label in labels.values()}
    fmt = lambda a: format_value(a, 4, shape=False)
    assert heads["matmul"] == f"matmul\n(2,) float64\n{fmt(W.data @ x.data)}\ngrad = {fmt(3 * (1 - np.tanh(h) ** 2))}"
    assert heads["add"].split("\n")[2] == fmt(h)
    assert heads["tanh"] == f"tanh\n(2,) float64\n{fmt(np.tanh(h))}\ngrad = [3, 3]"
    assert heads["multiply"].endswith("grad = [1, 1]") and heads["sum"].endswith("grad = 1")
    assert {"(2,) [1, -6]", "3"} <= set(labels.values())  # the constants b and 3.0, by value
    assert heads["W"].endswith(f"grad = {fmt(W.grad.data)}") and heads["x"].endswith(f"grad = {fmt(x.grad.data)}")
    # the intermediate gradients are the engine's
    _, _, z, y2 = build()
    (gz,) = cr.autograd.grad(y2, [z])
    assert heads["add"].endswith(f"grad = {fmt(gz.data)}")


def test_tensor_graph_without_record_after_backward_shows_what_it_can():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    W = cr.nn.Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
    y = cr.sum(cr.tanh(W @ x))
    y.backward()
    labels = labels_of(to_dot(y))
    heads = {label.split("\n")[0]: label for label in labels.values()}
    assert heads["matmul"].split("\n")[2] == "[5, 11]"  # recomputed from the leaves
    assert heads["tanh"].split("\n")[2] == format_value(np.tanh([5.0, 11.0]), 4, shape=False)
    assert heads["sum"].endswith("grad = 1") and "grad" in heads["tanh"]


def _sgd_after_graph(record):
    w, x = cr.nn.Parameter(cr.tensor([2.0])), cr.tensor([3.0])
    if record:
        with cr.viz.record():
            loss = cr.sum((w * x - 1.0) ** 2)
    else:
        loss = cr.sum((w * x - 1.0) ** 2)
    loss.backward()
    cr.optim.SGD([w], lr=0.1).step()  # w: 2 -> -1, in place, after the graph used it
    assert w.data.tolist() == [-1.0]
    return loss, w  # the graph holds its leaves weakly: keep w alive


def test_a_recorded_graph_shows_the_values_it_used_after_an_in_place_step():
    loss, w = _sgd_after_graph(record=True)
    heads = {label.split("\n")[0]: label for label in labels_of(to_dot(loss)).values()}
    # every number is the one the graph computed with: w = 2, w·x = 6 (not the stepped w = -1)
    assert heads["parameter"] == "parameter\n(1,) float64\n[2]\n(changed in place since)\ngrad = [30]"
    assert heads["multiply"].split("\n")[2] == "[6]" and heads["subtract"].split("\n")[2] == "[5]"


def test_a_graph_says_which_values_were_overwritten_instead_of_showing_them():
    loss, w = _sgd_after_graph(record=False)
    src = to_dot(loss)
    graph, _, _ = parse(src)
    heads = {label.split("\n")[0]: label for label in labels_of(src).values()}
    assert heads["parameter"] == "parameter\n(1,) float64\n(changed in place after use)\ngrad = [30]"
    assert "[-1]" not in src and "[6]" not in src  # no stepped value, nothing recomputed from it
    assert "written in place after this graph used them" in graph["label"]
    # t[i] = v on a constant the graph saved, and on a big recorded operand kept by reference
    c = cr.tensor([3.0, 4.0])
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.sum(x * c)
    c[0] = 0.0
    assert "(changed in place after use)" in to_dot(y, grads=False) and "[3, 4]" not in to_dot(y, grads=False)
    big = cr.tensor(np.ones(cr.viz.tape.RECORD_COPY + 1))
    with cr.viz.record():
        z = cr.sum(x[0] * big)
    big[0] = 5.0
    assert "(changed in place after use)" in to_dot(z)
    # a write before the graph was built changes nothing: a training loop's next graph is shown in full
    w = cr.nn.Parameter(cr.tensor([2.0]))
    w.grad = cr.tensor([10.0])
    cr.optim.SGD([w], lr=0.1).step()
    loss = cr.sum(w * 3.0)
    assert "changed in place" not in to_dot(loss) and "[1]" in to_dot(loss)


def test_none_arguments_and_loss_keywords_are_not_nodes():
    lin = cr.nn.Linear(3, 2, bias=False)
    x = cr.tensor(np.ones(3), requires_grad=True)
    _, nodes, edges = parse(to_dot(cr.sum(lin(x))))
    assert len(nodes) == 4 and len(edges) == 3  # weight, x, linear, sum: no node for the missing bias
    z = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    labels = labels_of(to_dot(cr.nn.functional.cross_entropy(z, np.array([1]))))
    assert op_label(labels, "cross_entropy") and "factor" not in "".join(labels.values())
    assert "(1,) [1]" in labels.values()  # the labels, a constant operand, by value


def test_explanation_graph_gives_each_use_of_an_operand_its_own_share():
    _, nodes, edges = parse(to_dot(explain(lambda x: x * x, 3.0)))
    assert [(a, b, e["label"]) for a, b, e in edges] == [("v1", "v2", "3"), ("v1", "v2", "3")]  # 3 + 3 = v̄1
    assert nodes["v1"]["label"].endswith("v̄1 = 6")
    mse = explain(lambda y: cr.nn.functional.mse_loss(y, np.array([1.0])), np.array([4.0]))
    _, _, edges = parse(to_dot(mse))
    square = [e["label"] for a, b, e in edges if (a, b) == ("v2", "v3")]
    assert square == ["[3]", "[3]"]  # v3 = v2 · v2 at v2 = 3 with v̄3 = 1: 1 · 3 along each edge, v̄2 = 6
    forward = explain(lambda x: x * x, 3.0, mode="forward")
    assert [e["label"] for _, _, e in parse(to_dot(forward))[2]] == ["3", "3"]  # ∂v2/∂v1 · v̇1 per edge


def test_tensor_graph_accepts_gradients_of_intermediates():
    x = cr.tensor(2.0, requires_grad=True)
    h = x * x
    y = cr.sin(h)
    (gh,) = cr.autograd.grad(y, [h], retain_graph=True)
    _, nodes, _ = parse(to_dot(y, grads={h: gh}))
    mult = next(a for a in nodes.values() if a["label"].startswith("multiply"))
    assert mult["label"].endswith(f"grad = {np.cos(4.0):.4g}")


def test_parameters_look_different_from_inputs():
    class Weight(cr.nn.Parameter):  # a subclass is a parameter: the class is checked, not its name
        pass

    class Parameter(cr.Tensor):  # merely called Parameter: an input
        pass

    leaves = [Weight(np.ones(2)), Parameter(np.ones(2), requires_grad=True), cr.nn.Parameter(np.ones(2))]
    _, nodes, _ = parse(to_dot(cr.sum(leaves[0] * leaves[1] * leaves[2])))
    fills = [a["fillcolor"] for a in nodes.values() if a["shape"] == "box"]
    assert fills == [STYLES[k]["fillcolor"] for k in ("parameter", "input", "parameter")]


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
