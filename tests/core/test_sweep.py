"""The engine's public reverse sweep (per-edge event, caller-supplied values) and its recording hook."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.backward import sweep
from chainrule.core.primitive import Application, REGISTRY, is_tracing, output_tangent, tracing
from chainrule.core.tensor import wrap


def _edges(y, targets=(), **kw):
    seen = []
    found = sweep([(y._node, np.ones_like(y.data))], [t._node for t in targets] or None, retain_graph=True,
                  on_edge=lambda node, i, parent, g, c: seen.append((node, i, parent, np.array(g), np.array(c))),
                  **kw)
    return seen, found


def test_on_edge_sees_every_edge_summed_back_to_the_input_shape():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = cr.tensor([[10.0], [20.0]], requires_grad=True)
    z = x * b  # (2, 3): x is broadcast over rows, b over columns
    y = z.sum()
    seen, _ = _edges(y)
    assert [(n.name, i) for n, i, *_ in seen] == [("sum", 0), ("multiply", 0), ("multiply", 1)]
    by_parent = {p: c for _, _, p, _, c in seen}
    assert by_parent[z._node].shape == (2, 3)
    np.testing.assert_array_equal(by_parent[x._node], [30.0, 30.0, 30.0])  # Σ over rows of b
    np.testing.assert_array_equal(by_parent[b._node], [[6.0], [6.0]])  # Σ over columns of x
    for node, _, parent, g, c in seen:
        assert c.shape == parent.shape and c.dtype == parent.dtype
        assert g.shape == node.shape  # the node's adjoint comes with each of its edges


def test_gradients_add_at_branches_and_match_backward():
    x = cr.tensor(0.7, requires_grad=True)
    a = x * x
    y = a + cr.sin(x)  # x feeds multiply twice and sin once
    seen, found = _edges(y, [x])
    into_x = [c for _, _, p, _, c in seen if p is x._node]
    assert len(into_x) == 3
    assert math.isclose(float(sum(into_x)), 2 * 0.7 + math.cos(0.7))
    y.backward()
    assert float(found[x._node]) == x.grad.item()  # the same sweep: the same sum, in the same order


def test_targets_return_adjoints_and_visit_only_what_leads_to_them():
    x = cr.tensor(2.0, requires_grad=True)
    w = cr.tensor(3.0, requires_grad=True)
    h = cr.exp(w)
    y = x * h
    seen, found = _edges(y, [x])
    assert [(n.name, p) for n, _, p, _, _ in seen] == [("multiply", x._node)]  # nothing towards w
    assert float(found[x._node]) == pytest.approx(math.exp(3.0))


def test_saved_values_run_the_rules_after_the_tape_was_freed():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    recorded = {}
    with tracing(lambda app: recorded.__setitem__(app.node, app) if app.node is not None else None):
        y = (cr.tanh(x) * 2.0).sum()
    y.backward()  # frees what the nodes saved
    assert all(node.freed for node in recorded)
    with pytest.raises(RuntimeError, match="second time"):
        sweep([(y._node, np.array(1.0))], [x._node])
    found = sweep([(y._node, np.array(1.0))], [x._node], saved=lambda n: (recorded[n].args, recorded[n].ans))
    np.testing.assert_allclose(found[x._node], x.grad.data)


def test_saved_none_stops_the_sweep_at_that_node_and_leaves_the_tape_alone():
    x = cr.tensor(1.0, requires_grad=True)
    h = cr.exp(x)
    y = h * x
    seen = []
    found = sweep([(y._node, np.array(1.0))], [x._node, h._node],
                  saved=lambda n: None if n is h._node else (n.args, n.ans),
                  on_edge=lambda n, i, p, g, c: seen.append(n.name))
    assert seen == ["multiply", "multiply"]  # nothing flows back through exp
    assert float(found[x._node]) == pytest.approx(math.e) and float(found[h._node]) == 1.0
    assert not y._node.freed and y._node.args is not None
    y.backward()
    assert x.grad.item() == pytest.approx(2 * math.e)


def test_tracing_sees_every_application_and_nests():
    outer, inner = [], []
    x = cr.tensor(2.0, requires_grad=True)
    with tracing(outer.append):
        a = cr.exp(x)
        with tracing(inner.append):
            b = a * 3.0
        c = cr.tensor(1.0) + 1.0  # nothing requires grad: reported with no node
    assert [e.prim.name for e in outer] == ["exp", "multiply", "add"]
    assert [e.prim.name for e in inner] == ["multiply"]
    app = inner[0]
    assert isinstance(app, Application) and app.node is b._node and app.parents == (a._node, None)
    assert app.args[0] is a.data and app.args[1] == 3.0 and app.ans is b.data
    assert outer[2].node is None and outer[2].ans is c.data
    assert not is_tracing()


def test_tracing_removes_its_hook_on_error_and_only_its_own():
    first, second = [], []
    with tracing(first.append):
        with pytest.raises(ZeroDivisionError):
            with tracing(second.append):  # an equal (empty) list: removed by identity, not by value
                assert is_tracing()
                raise ZeroDivisionError
        cr.exp(cr.tensor(1.0))
    assert not is_tracing()
    assert [e.prim.name for e in first] == ["exp"] and second == []


def test_a_tracing_hook_costs_nothing_once_removed():
    calls = []
    with tracing(calls.append):
        pass
    cr.exp(cr.tensor(1.0, requires_grad=True))
    assert calls == []


def test_output_tangent_sums_each_inputs_share():
    mul = REGISTRY["multiply"]
    x, y = wrap(np.array([1.0, 2.0])), wrap(np.array(3.0))
    ans = wrap(x.data * y.data)
    tx, ty = wrap(np.array([1.0, 0.5])), wrap(np.array(2.0))
    share_x = output_tangent(mul, [tx, None], ans, (x, y), {})
    share_y = output_tangent(mul, [None, ty], ans, (x, y), {})
    both = output_tangent(mul, [tx, ty], ans, (x, y), {})
    np.testing.assert_allclose(share_x.data, [3.0, 1.5])
    np.testing.assert_allclose(share_y.data, [2.0, 4.0])  # broadcast to the output's shape
    np.testing.assert_allclose(both.data, share_x.data + share_y.data)
    assert output_tangent(mul, [None, None], ans, (x, y), {}) is None


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_leaf_rebound_to_another_dtype_gets_a_gradient_of_its_new_dtype(create_graph):
    # the leaf's node keeps the dtype it was made with; the gradient must follow the array (dtypes are preserved)
    w = cr.tensor(np.ones((3, 3)), requires_grad=True)
    w.data = np.ones((3, 3), dtype=np.float32)
    x = cr.tensor(np.full((2, 3), 0.5, dtype=np.float32))
    (x @ w).sum().backward(create_graph=create_graph)
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.data, np.ones((3, 3), np.float32))


def test_a_leaf_rebound_to_another_shape_refuses_a_gradient():
    # the contributions were summed to the old shape: any gradient would be wrong, so none is given
    w = cr.tensor(np.ones(1), requires_grad=True)
    w.data = np.ones(3)
    with pytest.raises(RuntimeError, match=r"rebound to shape \(3,\).*made with shape \(1,\)"):
        (w * 2).sum().backward()
