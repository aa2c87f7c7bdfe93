"""The notes' MLP in chainrule.edf trains exactly as the same network in cr.nn: step for step, in float64."""

import numpy as np

import chainrule as cr
from chainrule import edf, nn, optim


def notes_mlp(W1, b1, W2, b2, learning_rate):
    """The notes' MLP, as printed, on its own graph."""
    with edf.Graph(learning_rate=learning_rate) as graph:
        x, y = edf.Input(), edf.Input()
        Phi1 = edf.ParameterPackage(w=W1.copy(), b=b1.copy())
        Phi2 = edf.ParameterPackage(w=W2.copy(), b=b2.copy())
        L1 = edf.Relu(edf.Affine(Phi1, x))
        P = edf.Softmax(edf.Sigmoid(edf.Affine(Phi2, L1)))
        ell = edf.LogLoss(P, y)
    return graph, x, y, ell, [Phi1.w, Phi1.b, Phi2.w, Phi2.b]


def nn_mlp(W1, b1, W2, b2):
    """The same network in cr.nn: Linear keeps its weight as (out, in), the transpose of EDF's w."""
    first, second = nn.Linear(*W1.shape, dtype=np.float64), nn.Linear(*W2.shape, dtype=np.float64)
    first.weight, first.bias = nn.Parameter(W1.T.copy()), nn.Parameter(b1.copy())
    second.weight, second.bias = nn.Parameter(W2.T.copy()), nn.Parameter(b2.copy())
    return nn.Sequential(first, nn.ReLU(), second, nn.Sigmoid(), nn.Softmax(dim=-1))


def test_the_notes_mlp_equals_cr_nn_step_for_step():
    rng = np.random.default_rng(0)
    n_in, hidden, classes, lr = 6, 10, 4, 0.5
    W1, b1 = rng.normal(0, 0.5, (n_in, hidden)), rng.normal(0, 0.1, hidden)
    W2, b2 = rng.normal(0, 0.5, (hidden, classes)), rng.normal(0, 0.1, classes)
    graph, x, y, ell, params = notes_mlp(W1, b1, W2, b2, lr)
    net = nn_mlp(W1, b1, W2, b2)
    opt = optim.SGD(net.parameters(), lr=lr)
    for step in range(8):
        xb, yb = rng.normal(size=(5 + step, n_in)), rng.integers(0, classes, 5 + step)  # minibatches of every size
        x.value, y.value = xb, yb
        graph.Forward()
        graph.Backward(ell)

        opt.zero_grad()
        P = net(cr.tensor(xb))
        loss = -cr.log(P[np.arange(len(yb)), yb]).mean()
        loss.backward()

        np.testing.assert_allclose(ell.value.mean(), loss.item(), rtol=1e-12)
        layers = [net[0].weight, net[0].bias, net[2].weight, net[2].bias]
        for p, q in zip(params, layers):
            grad = q.grad.data.T if q.ndim == 2 else q.grad.data
            np.testing.assert_allclose(p.grad, grad, rtol=1e-10, atol=1e-13)
        graph.SGD()
        opt.step()
        for p, q in zip(params, layers):
            np.testing.assert_allclose(p.value, q.data.T if q.ndim == 2 else q.data, rtol=1e-10, atol=1e-13)
    assert not np.allclose(params[0].value, W1)  # it did train


def test_backward_seeds_one_over_nbatch_and_parameters_sum_over_the_minibatch():
    rng = np.random.default_rng(1)
    graph, x, y, ell, params = notes_mlp(rng.normal(size=(3, 4)), np.zeros(4), rng.normal(size=(4, 2)),
                                         np.zeros(2), 0.1)
    x.value, y.value = rng.normal(size=(7, 3)), rng.integers(0, 2, 7)
    graph.Forward()
    graph.Backward(ell)
    assert ell.grad == 1 / 7 and graph.nBatch == 7
    assert [p.grad.shape for p in params] == [p.value.shape for p in params]  # no batch index
    xb, yb = x.value, y.value
    one = []  # the gradient of the mean is the mean of each example's gradient
    for b in range(7):
        x.value, y.value = xb[b : b + 1], yb[b : b + 1]
        graph.Forward()
        graph.Backward(ell)
        one.append(params[0].grad.copy())
    x.value, y.value = xb, yb
    graph.Forward()
    graph.Backward(ell)
    np.testing.assert_allclose(np.mean(one, axis=0), params[0].grad, rtol=1e-12, atol=1e-15)
