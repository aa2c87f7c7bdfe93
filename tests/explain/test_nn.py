"""cr.explain on nn.functional and Modules: losses in both modes, None arguments, layers' parameter names."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import explain


# ---- nn.functional, None arguments, Modules ----------------------------------------------------
F = cr.nn.functional
LOGITS = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
LABELS = np.array([1, 2])


def engine_grads(f, *args):
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    f(*ts).backward()
    return [t.grad.data for t in ts]


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda z: F.cross_entropy(z, LABELS), (LOGITS,)),  # a None class weight among the operands
        (lambda z: F.cross_entropy(z, LABELS, reduction="sum"), (LOGITS,)),
        (lambda z: F.nll_loss(F.log_softmax(z), LABELS), (LOGITS,)),
        (lambda z: F.mse_loss(z, np.ones((2, 3))), (LOGITS,)),
        (lambda p: F.binary_cross_entropy(p, np.array([0.0, 1.0])), (np.array([0.3, 0.8]),)),
        (lambda z: F.cross_entropy(z, np.array([1])), (np.array([[1.0, 2.0, 3.0]]),)),
    ],
    ids=["cross_entropy", "cross_entropy-sum", "nll_loss", "mse_loss", "binary_cross_entropy", "one-row"],
)
def test_losses_of_nn_functional_in_both_modes(f, args):
    ex = explain(f, *args)
    for g, e in zip(ex.gradients, engine_grads(f, *args)):
        np.testing.assert_allclose(g.value, e, rtol=1e-12)
    text = str(ex)
    assert "None" not in text and "factor" not in text and "reduce=" not in text
    fw = explain(f, *args, mode="forward", direction=(np.ones_like(args[0]),))
    assert float(fw.tangent) == pytest.approx(float(np.sum(engine_grads(f, *args)[0])))


def test_the_reduction_of_a_loss_is_shown_by_its_public_name():
    assert "cross_entropy(v1, c1)  " in str(explain(lambda z: F.cross_entropy(z, LABELS), LOGITS))
    summed = explain(lambda z: F.cross_entropy(z, LABELS, reduction="sum"), LOGITS)
    assert "cross_entropy(v1, c1, reduction='sum')" in str(summed)


def test_a_linear_layer_without_bias_and_the_names_of_module_parameters():
    lin = cr.nn.Linear(3, 2, bias=False)
    for mode in ("reverse", "forward"):
        ex = explain(lambda x: cr.sum(lin(x)), np.ones(3), mode=mode)
        assert ex.row("lin.weight").kind == "parameter" and ex.row("v3").expr == "linear(v1, v2)"
        assert ex.row("v3").inputs == ("v1", "v2")  # the missing bias is no operand
    np.testing.assert_allclose(explain(lambda x: cr.sum(lin(x)), np.ones(3)).gradients[1].value, np.ones((2, 3)))
    net = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.Tanh(), cr.nn.Linear(2, 1))
    ex = explain(lambda x: cr.sum(net(x)), np.ones(2))
    assert [g.label for g in ex.gradients] == ["x", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]
    text = str(ex)
    assert text.startswith("f(x), reverse mode\nparameters: net.0.weight, net.0.bias, net.2.weight, net.2.bias\n")
    assert "∂f/∂(net.0.weight) = v̄2" in text
    own = explain(net, np.ones(2))  # the Module itself: its own dotted names
    assert own.function == "Sequential" and [g.label for g in own.gradients][1:3] == ["0.weight", "0.bias"]
