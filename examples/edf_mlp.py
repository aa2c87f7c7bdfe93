"""The EDF notes' MLP trained on the digits with the notes' own framework, next to the same network in cr.nn.

``chainrule.edf`` is the notes' Educational Framework: ``Input``, ``Parameter``, ``CompNode``,
node classes with hand-written ``backward`` methods, and the core ``Forward()``,
``Backward(loss)``, ``SGD()``. The script builds the notes' network as printed,

    L1 = Relu(Affine(Phi1, x))
    P = Softmax(Sigmoid(Affine(Phi2, L1)))
    ell = LogLoss(P, y)

checks every hand-written backward against the chain rule (``edf.check``), and trains it by
minibatch SGD. Beside it the same network in ``cr.nn``, from the same initial weights and on
the same minibatches, is trained by ``optim.SGD`` with gradients from chainrule's autodiff.
In float64 the two stay equal to rounding, so their accuracies agree.

    python examples/edf_mlp.py            # 10 epochs, about 2 s
    python examples/edf_mlp.py --quick    # 3 epochs
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import edf, nn, optim  # noqa: E402
from chainrule.data import load_digits  # noqa: E402
from chainrule.edf import Affine, Graph, Input, LogLoss, ParameterPackage, Relu, Sigmoid, Softmax  # noqa: E402


def notes_mlp(W1, b1, W2, b2, learning_rate):
    """The notes' MLP, as printed, on a graph of its own; EDF's Parameters update W1... in place, so copies."""
    with Graph(learning_rate=learning_rate) as graph:
        x, y = Input(), Input()
        Phi1 = ParameterPackage(w=W1.copy(), b=b1.copy())
        Phi2 = ParameterPackage(w=W2.copy(), b=b2.copy())
        L1 = Relu(Affine(Phi1, x))
        P = Softmax(Sigmoid(Affine(Phi2, L1)))
        ell = LogLoss(P, y)
    return graph, x, y, P, ell, [Phi1.w, Phi1.b, Phi2.w, Phi2.b]


def nn_mlp(W1, b1, W2, b2):
    """The same network in cr.nn (a Linear keeps its weight as (out, in): EDF's w transposed)."""
    first, second = nn.Linear(*W1.shape, dtype=np.float64), nn.Linear(*W2.shape, dtype=np.float64)
    first.weight, first.bias = nn.Parameter(W1.T.copy()), nn.Parameter(b1.copy())
    second.weight, second.bias = nn.Parameter(W2.T.copy()), nn.Parameter(b2.copy())
    return nn.Sequential(first, nn.ReLU(), second, nn.Sigmoid(), nn.Softmax(dim=-1))


def main(argv=None):
    parser = argparse.ArgumentParser(description="the EDF notes' MLP on the bundled digits, in EDF and in cr.nn")
    parser.add_argument("--quick", action="store_true", help="train briefly (for tests)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2.0,
                        help="large, since sigmoid then softmax keeps the gradients small (default: 2.0)")
    args = parser.parse_args(argv)
    epochs = args.epochs or (3 if args.quick else 10)

    (x_train, y_train), (x_test, y_test) = load_digits()
    x_train, x_test = x_train.astype(np.float64), x_test.astype(np.float64)
    rng = np.random.default_rng(0)
    n_in, classes = x_train.shape[1], 10

    def glorot(fan_in, fan_out):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, (fan_in, fan_out))

    init = glorot(n_in, args.hidden), np.zeros(args.hidden), glorot(args.hidden, classes), np.zeros(classes)
    graph, x, y, P, ell, params = notes_mlp(*init, args.lr)
    net = nn_mlp(*init)
    layers = [net[0].weight, net[0].bias, net[2].weight, net[2].bias]
    opt = optim.SGD(net.parameters(), lr=args.lr)

    x.value, y.value = x_train[:8], y_train[:8]
    graph.Forward()
    graph.Backward(ell)
    report = edf.check(graph)
    print(report)
    assert report.ok

    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        total = 0.0
        for i in range(0, len(order), 32):
            batch = order[i : i + 32]
            # the notes' core: Forward, Backward (loss.grad = 1/nBatch), SGD
            x.value, y.value = x_train[batch], y_train[batch]
            graph.Forward()
            graph.Backward(ell)
            graph.SGD()
            total += ell.value.sum()
            # the same step in cr.nn: the backward pass comes from autodiff
            opt.zero_grad()
            probs = net(cr.tensor(x_train[batch]))
            loss = -cr.log(probs[np.arange(len(batch)), y_train[batch]]).mean()
            loss.backward()
            opt.step()
        x.value, y.value = x_test, y_test
        graph.Forward()
        acc_edf = float(np.mean(P.value.argmax(axis=1) == y_test))
        with cr.no_grad():
            acc_nn = float(np.mean(net(cr.tensor(x_test)).data.argmax(axis=1) == y_test))
        apart = max(float(np.max(np.abs(p.value - (q.data.T if q.ndim == 2 else q.data))))
                    for p, q in zip(params, layers))
        print(f"epoch {epoch:2d}  train LogLoss {total / len(x_train):.4f}  test accuracy EDF {100 * acc_edf:.2f}%  "
              f"cr.nn {100 * acc_nn:.2f}%  weights apart by {apart:.1e}")

    assert acc_edf == acc_nn and apart < 1e-9
    print(f"final test accuracy: {100 * acc_edf:.2f}% (EDF) = {100 * acc_nn:.2f}% (cr.nn), "
          f"from the same initial weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
