"""Each EDF node's hand-written backward equals chainrule's vector-Jacobian product (float64, random minibatches)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import edf


class Leaf(edf.CompNode):
    """A batched input that keeps the gradient it is passed (an edf.Input drops it), so it can be compared."""

    def __init__(self, value):
        edf.CompNodes.append(self)
        self.value = value

    def forward(self):
        pass

    def backward(self):
        pass


def rows(P, y):
    return P[np.arange(len(y)), y]


# node, its inputs as (kind, shape without the batch index), the same map in chainrule operations
CASES = {
    "Affine": (lambda a: edf.Affine(edf.ParameterPackage(w=a[1], b=a[2]), a[0]),
               [("batch", (4,)), ("param", (4, 3)), ("param", (3,))], lambda x, w, b: x @ w + b),
    "Relu": (lambda a: edf.Relu(a[0]), [("batch", (5,))], lambda x: cr.relu(x)),
    "Sigmoid": (lambda a: edf.Sigmoid(a[0]), [("batch", (3, 2))], lambda x: cr.sigmoid(x)),
    "Softmax": (lambda a: edf.Softmax(a[0]), [("batch", (6,))], lambda x: cr.softmax(x, axis=-1)),
    "LogLoss": (lambda a: edf.LogLoss(a[0], a[1]), [("prob", (4,)), ("labels", (4,))],
                lambda P, y: -cr.log(rows(P, y))),
    "VDot": (lambda a: edf.VDot(a[0], a[1]), [("batch", (5,)), ("batch", (5,))], lambda x, y: cr.sum(x * y, axis=-1)),
    "VDot with a Parameter": (lambda a: edf.VDot(a[0], a[1]), [("batch", (5,)), ("param", (5,))],
                              lambda x, w: cr.sum(x * w, axis=-1)),
    "Sum": (lambda a: edf.Sum(a[0]), [("batch", (2, 3))], lambda x: cr.sum(cr.reshape(x, (len(x), -1)), axis=1)),
}


def sample(kind, shape, batch, rng):
    if kind == "param":
        return rng.standard_normal(shape)
    if kind == "prob":
        e = np.exp(rng.standard_normal((batch, *shape)))
        return e / e.sum(axis=1, keepdims=True)
    if kind == "labels":
        return rng.integers(0, shape[0], batch)
    return rng.standard_normal((batch, *shape))


def hand_written(make, kinds, values, g):
    """What the node's backward passes each input, summed over the minibatch for a Parameter."""
    with edf.Graph():
        nodes = [edf.Parameter(v) if k == "param" else Leaf(v) for (k, _), v in zip(kinds, values)]
        node = make(nodes)
    node.forward()
    for n in nodes:
        n.grad = 0
    node.grad = g
    node.backward()
    return node.value, [n.grad for (k, _), n in zip(kinds, nodes) if k != "labels"]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("batch", [1, 2, 7])
def test_hand_written_backward_is_the_chain_rule(name, batch):
    make, kinds, reference = CASES[name]
    rng = np.random.default_rng([batch, len(name)])
    for _ in range(3):
        values = [sample(k, s, batch, rng) for k, s in kinds]
        floats = [k != "labels" for k, _ in kinds]

        def f(*args, floats=floats, values=values):
            it = iter(args)  # the float inputs are differentiated; labels are data
            return reference(*[next(it) if is_float else v for is_float, v in zip(floats, values)])

        out, vjp_fn = cr.vjp(f, *[v for is_float, v in zip(floats, values) if is_float])
        g = rng.standard_normal(out.shape)
        value, hand = hand_written(make, kinds, values, g)
        assert value.dtype == np.float64
        np.testing.assert_allclose(value, out, rtol=1e-12, atol=1e-12)
        for h, c in zip(hand, vjp_fn(g)):
            assert np.shape(h) == np.shape(c)
            np.testing.assert_allclose(h, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_passes_every_node_on_random_minibatches(name):
    make, kinds, _ = CASES[name]
    rng = np.random.default_rng(len(name))
    with edf.Graph() as g:
        nodes = []
        for k, s in kinds:
            if k == "param":
                nodes.append(edf.Parameter(sample(k, s, 3, rng)))
            else:
                nodes.append(edf.Input())
                nodes[-1].value = sample(k, s, 5, rng)
        make(nodes)
    report = edf.check(g, upstream="random")
    assert report.ok, str(report)
    assert len(report) == sum(k != "labels" for k, _ in kinds)


def test_softmax_is_stable_where_the_notes_formula_overflows():
    with edf.Graph():
        x = edf.Input()
        x.value = np.array([[1000.0, 999.0, -1000.0]])
        P = edf.Softmax(x)
    P.forward()
    e = np.exp([0.0, -1.0])
    np.testing.assert_allclose(P.value, [[e[0] / e.sum(), e[1] / e.sum(), 0.0]], atol=1e-300)
