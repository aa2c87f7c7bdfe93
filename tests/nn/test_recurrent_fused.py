"""The fused recurrent primitives: one node per layer and direction, vmap, higher derivatives, repeated backward.

Their rules are checked against central differences, forward mode, second order and float32 by
the sample harness (tests/ops/samples/recurrent.py); here, the properties the harness does not see.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.core.primitive import tracing
from chainrule.nn.functional import recurrent as R

rng = np.random.default_rng(3)
L, N, H = 4, 3, 2


def _np(x):
    return x.data if isinstance(x, cr.Tensor) else np.asarray(x)


def r(*shape):
    return rng.standard_normal(shape) * 0.6


SCANS = {
    "lstm": (R.lstm_scan_p, R._lstm_ref, 4, 2),
    "gru": (R.gru_scan_p, R._gru_ref, 3, 1),
    "rnn": (R.rnn_scan_p, R._rnn_ref, 1, 1),
}
IN = 3


def _args(kind):
    """The inputs in order: sequence, states, then the weights W_ih, W_hh, b_ih, b_hh."""
    _, _, gates, states = SCANS[kind]
    g = gates * H
    return [r(L, N, IN)] + [r(N, H) for _ in range(states)] + [r(g, IN), r(g, H), r(g), r(g)]


@pytest.mark.parametrize("module", [nn.LSTM, nn.GRU, nn.RNN])
def test_one_fused_node_per_layer_and_direction(module):
    m = module(3, 4, num_layers=2, bidirectional=True)
    seen = []
    with tracing(seen.append):
        out, _ = m(cr.tensor(r(5, 2, 3)))
    names = [a.prim.name for a in seen]
    assert sum(n.endswith("_scan") for n in names) == 4  # 2 layers × 2 directions
    assert "linear" not in names  # each layer's input projection is inside its scan: one GEMM over every step


@pytest.mark.parametrize("kind", sorted(SCANS))
@pytest.mark.parametrize("batched_weights", [False, True])
def test_vmap_equals_a_loop_over_examples(kind, batched_weights):
    prim = SCANS[kind][0]
    args = _args(kind)
    b = 3
    xs = rng.standard_normal((b,) + args[0].shape)
    h0s = rng.standard_normal((b,) + args[1].shape)
    ws = rng.standard_normal((b,) + args[-1].shape) * 0.5

    def f(xw, h0, w):
        full = [xw, h0] + args[2:-1] + [w]
        return prim(*full, reverse=True)

    got = cr.vmap(f, in_axes=(0, 0, 0 if batched_weights else None))(xs, h0s, ws if batched_weights else args[-1])
    for k in range(b):
        want = f(cr.tensor(xs[k]), cr.tensor(h0s[k]), cr.tensor(ws[k] if batched_weights else args[-1]))
        np.testing.assert_allclose(_np(got)[k], want.data, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(SCANS))
def test_per_example_gradients_through_vmap(kind):
    prim, ref, _, _ = SCANS[kind]
    args = _args(kind)
    xs = rng.standard_normal((2,) + args[0].shape)

    g = cr.vmap(cr.grad(lambda x: (prim(x, *args[1:]) ** 2).sum()))(xs)
    for k in range(2):
        want = cr.grad(lambda x: (ref(x, *[cr.tensor(a) for a in args[1:]]) ** 2).sum())(xs[k])
        np.testing.assert_allclose(_np(g)[k], _np(want), atol=1e-10)


@pytest.mark.parametrize("kind", sorted(SCANS))
def test_second_derivatives_equal_the_step_by_step_graphs(kind):
    prim, ref, _, _ = SCANS[kind]
    args = _args(kind)
    u = rng.standard_normal(prim(*[cr.tensor(a) for a in args]).shape)

    def hvp(fn):
        ts = [cr.tensor(a, requires_grad=True) for a in args]
        out = (fn(*ts) * cr.tensor(u)).sum()
        gs = cr.autograd.grad(out, ts, create_graph=True)
        second = sum((g * g).sum() for g in gs)
        return [g.data for g in cr.autograd.grad(second, ts)]

    for a, b in zip(hvp(prim), hvp(ref)):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_lstm_module_forward_over_reverse_matches_finite_differences():
    lstm = nn.LSTM(2, 3, dtype=np.float64)
    x = r(4, 1, 2)
    v = r(4, 1, 2)

    def f(x):
        out, (h, c) = lstm(x)
        return (out ** 2).sum() + (c ** 2).sum()

    grad = cr.grad(f)
    eps = 1e-5
    fd = (_np(grad(cr.tensor(x + eps * v))) - _np(grad(cr.tensor(x - eps * v)))) / (2 * eps)
    _, hv = cr.jvp(grad, (cr.tensor(x),), (cr.tensor(v),))
    np.testing.assert_allclose(_np(hv), fd, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(SCANS))
def test_repeated_backward_and_partial_inputs(kind):
    prim, ref, _, _ = SCANS[kind]
    args = _args(kind)
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    out = (prim(*ts) ** 2).sum()
    first = [g.data.copy() for g in cr.autograd.grad(out, ts, retain_graph=True)]
    second = [g.data for g in cr.autograd.grad(out, ts[-2:])]  # weights only, same graph again
    for a, b in zip(first[-2:], second):
        np.testing.assert_array_equal(a, b)
    tr = [cr.tensor(a, requires_grad=True) for a in args]
    want = cr.autograd.grad((ref(*tr) ** 2).sum(), tr)
    for a, b in zip(first, want):
        np.testing.assert_allclose(a, b.data, atol=1e-12)


@pytest.mark.parametrize("module", [nn.LSTM, nn.GRU, nn.RNN])
def test_float32_in_float32_out_and_gradients(module):
    m = module(3, 4, bidirectional=True)
    x = cr.tensor(r(5, 2, 3).astype(np.float32), requires_grad=True)
    out, _ = m(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in m.parameters())


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_backward_from_a_copy_of_the_result_recomputes_what_it_reads(kind):
    # the reverse rule reads the gates from the buffer its result is a view of; handed a copy (as a replay or a
    # saved value might), it runs the forward again rather than read anything else
    from chainrule.nn.functional import recurrent_kernels as K

    forward, backward = (K.lstm_forward, K.lstm_backward) if kind == "lstm" else (K.gru_forward, K.gru_backward)
    args = _args(kind)
    ans = forward(*args)
    assert K._buffer(ans, *((7, 5) if kind == "lstm" else (5, 4))) is not None
    g = rng.standard_normal(ans.shape)
    direct = [s() if callable(s) else s for s in backward(g, ans, *args)]
    copied = [s() if callable(s) else s for s in backward(g, ans.copy(), *args)]
    for a, b in zip(direct, copied):
        np.testing.assert_array_equal(a, b)


def test_the_buffers_are_held_weakly():
    from chainrule.nn.functional import recurrent_kernels as K

    before = len(K._BUFFERS)
    ans = K.lstm_forward(*_args("lstm"))
    assert len(K._BUFFERS) == before + 1
    del ans
    assert len(K._BUFFERS) == before


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_jit_replays_the_fused_rules_bit_for_bit_with_a_changing_initial_state(kind):
    # under cr.jit the rules see traced arrays: they must run the same kernels as eager (not the step-by-step
    # graph, whose sums round differently), find the forward's buffer without rerunning it, and take no branch
    # on h0's value (zero at the trace, nonzero at a replay)
    scan, _, _, states = SCANS[kind]
    args = _args(kind)
    weights = [cr.tensor(a, requires_grad=True) for a in args[1 + states:]]

    def step(x, *hs):
        out = scan(x, *hs, *weights)
        return cr.autograd.grad((out * out).sum(), [x, *hs, *weights])

    jitted = cr.jit(step)
    for scale in (0.0, 1.0, 0.5):
        ins = [cr.tensor(a * (scale if k else 1.0), requires_grad=True) for k, a in enumerate(args[:1 + states])]
        for a, b in zip(step(*ins), jitted(*ins)):
            np.testing.assert_array_equal(a.data, b.data)
    assert jitted.traces == 1
    (prog,) = jitted.programs()
    # one forward recurrence: L matmuls with W_hh forward, L - 1 backward, plus the GEMMs after the loop
    assert prog.source.count("matmul") <= 2 * L + 6


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("module", [nn.LSTM, nn.GRU, nn.RNN])
def test_a_sequence_of_no_steps_is_refused_by_name(module, bias):
    # it crashed inside NumPy (a reshape of size 0, or an index -1 out of bounds), differently with and without bias
    m = module(IN, H, bias=bias)
    with pytest.raises(ValueError, match=rf"{module.__name__}: the input sequence has no steps.*\(0, 2, 3\)"):
        m(cr.tensor(np.ones((0, 2, IN))))
    layer = {nn.LSTM: R.lstm_layer, nn.GRU: R.gru_layer, nn.RNN: R.rnn_layer}[module]
    gates, states = {nn.LSTM: (4, 2), nn.GRU: (3, 1), nn.RNN: (1, 1)}[module]
    args = [cr.zeros((2, H)) for _ in range(states)] + [cr.zeros((gates * H, IN)), cr.zeros((gates * H, H))]
    with pytest.raises(ValueError, match=rf"{layer.__name__}: the input sequence has no steps"):
        layer(cr.zeros((0, 2, IN)), *args)


@pytest.mark.parametrize("module", [nn.LSTM, nn.GRU, nn.RNN])
def test_the_final_state_does_not_hold_the_work_buffer(module):
    # h_n (and c_n) outlive the step in a stateful loop: as views they kept every step's gates alive
    m = module(3, 4)
    out, state = m(cr.tensor(rng.standard_normal((50, 2, 3))))
    for s in state if isinstance(state, tuple) else (state,):
        base = s.data.base
        assert base is None or base.nbytes <= s.data.nbytes
