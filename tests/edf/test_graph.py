"""Graphs are values, the notes' code runs as printed, and cr.explain / cr.viz.draw / train accept EDF."""

import re

import numpy as np

import chainrule as cr
from chainrule import edf
from chainrule.cli import train
from chainrule.edf import *  # noqa: F403 - the notes' code uses the bare names


class F(CompNode):  # noqa: F405 - a node class as the notes print it: y = F(x), with f(x) = x³
    def __init__(self, x):
        CompNodes.append(self)  # noqa: F405
        self.x = x

    def forward(self):
        self.value = self.x.value ** 3

    def backward(self):
        self.x.addgrad(self.grad * 3 * self.x.value ** 2)  # needs x.value


def test_a_node_written_as_in_the_notes_joins_the_current_graph_and_checks():
    with Graph() as g:  # noqa: F405
        x = Input()  # noqa: F405
        x.value = np.array([[1.0, -2.0], [0.5, 3.0]])
        y = F(x)
        ell = Sum(y)  # noqa: F405
    assert g.CompNodes == [y, ell] and y not in edf.DEFAULT.CompNodes
    g.Forward()
    g.Backward(ell)
    assert check(g).ok  # noqa: F405


def test_two_graphs_share_no_list_and_the_globals_follow_the_current_graph():
    a, b = edf.Graph(learning_rate=0.1), edf.Graph(learning_rate=0.7)
    with a:
        p = edf.Parameter(np.ones(2))
        assert edf.learning_rate == 0.1 and len(edf.Parameters) == 1
        with b:
            q = edf.Parameter(np.ones(2))
            assert edf.learning_rate == 0.7 and list(edf.Parameters) == [q]
            edf.learning_rate = 0.5
        assert list(edf.Parameters) == [p]
    assert a.Parameters == [p] and b.Parameters == [q] and b.learning_rate == 0.5
    assert edf.current() is edf.DEFAULT


def test_the_notes_two_spellings_of_a_parameter_package():
    with edf.Graph():
        Phi = edf.ParameterPackage(w=np.eye(2), b=np.zeros(2))
    assert Phi.W is Phi.w and Phi.B is Phi.b
    assert isinstance(Phi.w, edf.Parameter) and Phi.w.value.dtype == np.float64


def mlp():
    rng = np.random.default_rng(5)
    with edf.Graph(learning_rate=0.5) as g:
        x, y = edf.Input(), edf.Input()
        Phi1 = edf.ParameterPackage(w=rng.normal(size=(3, 4)), b=rng.normal(size=4))
        Phi2 = edf.ParameterPackage(w=rng.normal(size=(4, 3)), b=rng.normal(size=3))
        L1 = edf.Relu(edf.Affine(Phi1, x))
        P = edf.Softmax(edf.Sigmoid(edf.Affine(Phi2, L1)))
        ell = edf.LogLoss(P, y)
    x.value, y.value = rng.normal(size=(2, 3)), np.array([2, 0])
    return g, ell, [Phi1.w, Phi1.b, Phi2.w, Phi2.b]


def test_explain_shows_the_graphs_wengert_list_and_its_gradients_are_edfs():
    g, ell, params = mlp()
    ex = cr.explain(g)
    assert [r.label for r in ex.gradients] == ["x", "Phi1.w", "Phi1.b", "Phi2.w", "Phi2.b"]
    g.Forward()
    g.Backward(ell)
    np.testing.assert_allclose(ex.value, ell.value.mean(), rtol=1e-12)
    for row, p in zip(ex.gradients[1:], params):
        np.testing.assert_allclose(row.value, p.grad, rtol=1e-10, atol=1e-14)
    text = str(ex)
    assert "Forward pass (Wengert list)" in text and "Backward pass" in text and "← loss" in text
    # explain ran on Tensors and put every value back
    assert all(isinstance(c.value, np.ndarray) for c in g.CompNodes)


def test_draw_renders_the_graph_as_its_explanation():
    g, _, _ = mlp()
    d = cr.viz.draw(g)
    assert d.format == "svg" and d.data.startswith(b"<?xml")
    assert "Phi1.w" in d.source and "v̄" in d.source


def test_train_model_edf_reaches_95_percent_on_the_digits(tmp_path, capsys):
    code = train.main(["--model", "edf", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    accuracy = float(re.search(r"^test accuracy: (\d+\.\d+)%", out, re.MULTILINE).group(1))
    assert code == 0 and accuracy >= 95.0, out
    assert out.startswith("training edf on digits")


def test_train_model_edf_checkpoints_and_resumes(tmp_path, capsys):
    assert train.main(["--model", "edf", "--epochs", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    saved = cr.load(tmp_path / "model.safetensors")
    assert saved["model.Phi1.w"].shape == (64, 256) and saved["model.Phi2.b"].shape == (10,)
    assert train.main(["--epochs", "2", "--out", str(tmp_path), "--no-progress", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "training edf on digits" in out and re.search(r"^epoch +2/2 ", out, re.MULTILINE)
