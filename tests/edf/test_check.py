"""edf.check flags broken backward methods (naming node, input and worst entry), passes correct ones; bad input errs."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import edf
from chainrule.edf import EDFError


# ---- deliberately broken backward methods ---------------------------------------------------------------
class WrongSignSigmoid(edf.Sigmoid):
    def backward(self):
        self.x.addgrad(-self.grad * self.value * (1.0 - self.value))


class ForgotFactorSigmoid(edf.Sigmoid):
    def backward(self):
        self.x.addgrad(self.grad * self.value)  # the (1 - value) factor is missing


class TransposedAffine(edf.Affine):
    def backward(self):
        self.x.addgrad(np.matmul(self.grad, self.Phi.w.value.transpose()))
        self.Phi.b.addgrad(self.grad)
        # W.grad[i,j] += y.grad[b,j] x[b,i], written with i and j swapped
        self.Phi.w.addgrad(self.grad[:, :, np.newaxis] * self.x.value[:, np.newaxis, :])


class UnsummedAffine(edf.Affine):
    def backward(self):
        self.x.addgrad(np.matmul(self.grad, self.Phi.w.value.transpose()))
        self.Phi.b.grad += self.grad  # past addgrad: the sum over the minibatch is missing
        self.Phi.w.addgrad(self.x.value[:, :, np.newaxis] * self.grad[:, np.newaxis, :])


class UnsummingParameter(edf.Parameter):
    def addgrad(self, delta):
        self.grad += delta  # the notes' "#sums over the minibatch" left out


class WrongSoftmax(edf.Softmax):
    def backward(self):
        self.x.addgrad(self.value * self.grad)  # the - Σ_j P.grad[b,j] P[b,j] term is missing


def affine_graph(cls=edf.Affine, n=4, m=4, batch=5, b=None, seed=1):  # not check's seed 0
    rng = np.random.default_rng(seed)
    with edf.Graph() as g:
        x = edf.Input()
        x.value = rng.standard_normal((batch, n))
        Phi = edf.ParameterPackage(w=rng.standard_normal((n, m)), b=b if b is not None else rng.standard_normal(m))
        node = cls(Phi, x)
    return g, node


def unary_graph(cls, shape=(6, 3), seed=1):
    rng = np.random.default_rng(seed)
    with edf.Graph() as g:
        x = edf.Input()
        x.value = rng.standard_normal(shape)
        node = cls(x)
    return g, node


def worst_row(report):
    bad = [r for r in report if not r.agree]
    assert len(bad) >= 1 and not report.ok
    return bad


def test_correct_backward_methods_pass():
    for g in [affine_graph()[0], unary_graph(edf.Sigmoid)[0], unary_graph(edf.Softmax)[0], unary_graph(edf.Relu)[0]]:
        report = edf.check(g)
        assert report.ok and all("agrees with the chain rule" in r.message for r in report), str(report)


def test_wrong_sign_is_flagged_with_node_input_and_worst_entry():
    g, node = unary_graph(WrongSignSigmoid)
    (row,) = worst_row(edf.check(g))
    assert (row.node, row.input) == ("WrongSignSigmoid", "x")
    s = node.value
    rng = np.random.default_rng(0)
    upstream = rng.standard_normal(s.shape)  # check's random upstream for a node that has no grad yet
    right = upstream * s * (1 - s)
    k = np.unravel_index(np.argmax(np.abs(2 * right)), s.shape)
    assert row.index == tuple(int(i) for i in k)
    assert row.hand == pytest.approx(-right[k]) and row.chain == pytest.approx(right[k])
    assert re.fullmatch(r"WrongSignSigmoid → x: hand-written backward differs from the chain rule at \[\d, \d\]: "
                        r"-?\d\.\d+ vs -?\d\.\d+ \(the sign is flipped\)", row.message), row.message


def test_a_missing_factor_is_flagged_at_the_worst_entry():
    g, node = unary_graph(ForgotFactorSigmoid)
    (row,) = worst_row(edf.check(g, upstream="random", seed=3))
    assert (row.node, row.input) == ("ForgotFactorSigmoid", "x")
    upstream = np.random.default_rng(3).standard_normal(node.value.shape)
    hand, chain = upstream * node.value, upstream * node.value * (1 - node.value)
    k = np.unravel_index(np.argmax(np.abs(hand - chain) / (np.abs(chain) + np.abs(chain).max())), chain.shape)
    assert row.index == tuple(int(i) for i in k)
    assert f"at [{k[0]}, {k[1]}]: {hand[k]:.3g} vs {chain[k]:.3g}" in row.message


def test_a_transposed_matrix_is_flagged():
    g, _ = affine_graph(TransposedAffine, n=4, m=4)
    report = edf.check(g)
    (row,) = worst_row(report)
    assert (row.node, row.input) == ("TransposedAffine", "Phi.w")
    assert "a matrix is transposed" in row.message and row.index is not None
    assert [r.agree for r in report] == [True, False, True]  # x and Phi.b are right


def test_a_transposed_non_square_matrix_is_an_error_naming_the_node():
    g, _ = affine_graph(TransposedAffine, n=4, m=3)
    with pytest.raises(EDFError, match=r"TransposedAffine.backward passed its input Phi.w \(Parameter\) a gradient "
                                       r"of shape \(5, 3, 4\), but a Parameter of shape \(4, 3\) takes one per "
                                       r"example, shape \(5, 4, 3\)"):
        edf.check(g)


def test_a_missing_minibatch_sum_is_flagged():
    g, _ = affine_graph(UnsummedAffine)
    (row,) = worst_row(edf.check(g))
    assert (row.node, row.input) == ("UnsummedAffine", "Phi.b")
    assert "has shape (5, 4), the chain rule's gradient (4,) (the sum over the minibatch is missing; summed over " \
           "it, it agrees)" in row.message


def test_a_parameter_that_does_not_sum_over_the_minibatch_is_flagged():
    g, _ = affine_graph(b=UnsummingParameter(np.zeros(4)))
    report = edf.check(g)
    (row,) = worst_row(report)
    assert (row.node, row.input) == ("Affine", "Phi.b") and "sum over the minibatch is missing" in row.message


def test_a_wrong_softmax_in_the_mlp_is_the_only_row_flagged():
    rng = np.random.default_rng(2)
    with edf.Graph() as g:
        x, y = edf.Input(), edf.Input()
        Phi1 = edf.ParameterPackage(w=rng.normal(size=(3, 5)), b=rng.normal(size=5))
        Phi2 = edf.ParameterPackage(w=rng.normal(size=(5, 4)), b=rng.normal(size=4))
        P = WrongSoftmax(edf.Sigmoid(edf.Affine(Phi2, edf.Relu(edf.Affine(Phi1, x)))))
        ell = edf.LogLoss(P, y)
    x.value, y.value = rng.normal(size=(6, 3)), rng.integers(0, 4, 6)
    g.Forward()
    g.Backward(ell)
    report = edf.check(g)
    assert [f"{r.node} → {r.input}" for r in report if not r.agree] == ["WrongSoftmax → x"]
    assert [r.node for r in report][:3] == ["Affine#1"] * 3  # two Affines: numbered


def test_check_leaves_the_graph_as_it_was():
    rng = np.random.default_rng(4)
    g, node = affine_graph()
    g.Forward()
    node.grad = rng.standard_normal(node.value.shape)
    before = {k: v for k, v in vars(node).items()}
    value, grad = node.value.copy(), node.grad.copy()
    edf.check(node)
    assert vars(node).keys() == before.keys() and np.array_equal(node.value, value)
    assert np.array_equal(node.grad, grad) and "grad" not in vars(node.x) and "addgrad" not in vars(node.Phi.w)


# ---- bad input: errors that name the node ------------------------------------------------------------------
class Silent(edf.CompNode):
    def __init__(self, x):
        edf.CompNodes.append(self)
        self.x = x

    def forward(self):
        self.value = 2 * self.x.value

    def backward(self):
        pass  # never calls addgrad


class BadShape(Silent):
    def backward(self):
        self.x.addgrad(np.sum(self.grad, axis=0))  # drops the minibatch index


class NotFollowable(Silent):
    def forward(self):
        self.value = np.asarray(self.x.value, dtype=float) * 2  # leaves chainrule: np.asarray of a Tensor


def test_a_backward_that_never_calls_addgrad_is_an_error_naming_the_node_and_input():
    with edf.Graph() as g:
        x = edf.Input()
        x.value = np.ones((3, 2))
        Silent(x)
    with pytest.raises(EDFError, match=r"Silent.backward never passes a gradient to its input x \(Input\)"):
        edf.check(g)


def test_a_gradient_without_the_minibatch_index_is_an_error_naming_the_node():
    with edf.Graph() as g:
        x = edf.Input()
        x.value = np.ones((3, 2))
        h = edf.Sigmoid(x)
        ell = edf.Sum(BadShape(h))
    g.Forward()
    with pytest.raises(EDFError, match=r"BadShape.backward passed its input x \(Sigmoid\) a gradient of shape "
                                       r"\(2,\), but its value has shape \(3, 2\)"):
        g.Backward(ell)
    with pytest.raises(EDFError, match=r"BadShape.backward passed its input x \(Sigmoid\)"):
        edf.check(g)


def test_more_bad_input_errors_name_the_node():
    with edf.Graph() as g:
        x = edf.Input()
        s = edf.Sigmoid(x)
    with pytest.raises(EDFError, match=r"Sigmoid.forward: its input x \(Input\) has no value"):
        g.Forward()
    x.value = np.ones((4, 3))
    g.Forward()
    with edf.Graph() as g2:
        w = edf.Parameter(np.ones(3))
        t = NotFollowable(w)
    g2.Forward()
    with pytest.raises(EDFError, match=r"chainrule could not follow NotFollowable.forward"):
        with pytest.warns(cr.GraphDropWarning):  # NumPy's conversion of the Tensor says so too
            edf.check(t)
    with pytest.raises(EDFError, match=r"Backward: the loss VDot has a value of shape \(\)"):
        with edf.Graph() as g3:
            v = edf.VDot(s, s)
            v.value = np.float64(1.0)
            g3.Backward(v)


def test_sgd_refuses_a_gradient_that_skipped_the_minibatch_sum():
    g, node = affine_graph(UnsummedAffine)
    with g:
        ell = edf.Sum(node)
    g.Forward()
    g.Backward(ell)
    with pytest.raises(EDFError, match=r"SGD: a Parameter of shape \(4,\) has a grad of shape \(5, 4\)"):
        g.SGD()
