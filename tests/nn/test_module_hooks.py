"""Module.register_forward_hook, register_full_backward_hook and cr.nn.summary."""

import numpy as np

import chainrule as cr
from chainrule import nn

X = cr.tensor(np.random.default_rng(0).standard_normal((5, 3)))


def _model():
    cr.random.seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_forward_hook_sees_and_may_replace_the_output():
    m = _model()
    seen = []
    h = m[0].register_forward_hook(lambda mod, args, out: seen.append((mod, args[0].shape, out.shape)))
    m(X)
    assert seen == [(m[0], (5, 3), (5, 4))]
    h.remove()
    m(X)
    assert len(seen) == 1
    m[2].register_forward_hook(lambda mod, args, out: out * 0.0)
    np.testing.assert_array_equal(m(X).data, np.zeros((5, 2)))


def test_full_backward_hook_gets_the_gradients_through_the_module():
    m = _model()
    seen = []
    m[1].register_full_backward_hook(lambda mod, gi, go: seen.append((gi[0].data.copy(), go[0].data.copy())))
    m(X).sum().backward()
    a = m[0](X)
    a.retain_grad()
    b = m[1](a)
    b.retain_grad()
    m[2](b).sum().backward()
    np.testing.assert_allclose(seen[0][0], a.grad.data)
    np.testing.assert_allclose(seen[0][1], b.grad.data)


def test_full_backward_hook_input_without_grad_and_replacement():
    m = _model()
    seen = []
    m[0].register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    m(X).sum().backward()
    assert seen == [((None,), (5, 4))]
    m.zero_grad()
    h = m[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.0,))
    m(X).sum().backward()
    assert np.all(m[0].weight.grad.data == 0) and np.any(m[2].weight.grad.data != 0)
    h.remove()
    m.zero_grad()
    m(X).sum().backward()
    assert np.any(m[0].weight.grad.data != 0)


def test_summary_prints_shapes_and_counts():
    lines = []
    text = cr.nn.summary(_model(), (7, 3), print_fn=lines.append)
    assert lines == [text]
    rows = text.splitlines()
    assert any("0 (Linear)" in r and "[7, 4]" in r and r.endswith("16") for r in rows)
    assert any("1 (Tanh)" in r and "[7, 4]" in r and r.endswith("--") for r in rows)
    assert any("2 (Linear)" in r and "[7, 2]" in r and r.endswith("10") for r in rows)
    assert "Total params: 26" in text and "Trainable params: 26" in text
    m = _model()
    m[0].weight.requires_grad_(False)
    assert "Non-trainable params: 12" in cr.nn.summary(m, (1, 3), print_fn=None)
    assert not m[0]._forward_hooks  # its hooks are removed
