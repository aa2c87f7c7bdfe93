"""LSTM, GRU, bidirectional RNN and their cells without torch: a NumPy reference, finite differences, keys, errors."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.testing import gradcheck


def sig(v):
    return 1 / (1 + np.exp(-v))


def lstm_ref(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """PyTorch's documented LSTM equations, gates i, f, g, o, in NumPy."""
    out = [None] * len(x)
    for t in (reversed(range(len(x))) if reverse else range(len(x))):
        i, f, g, o = np.split(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        out[t] = h
    return np.stack(out), h, c


def gru_ref(x, h, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's documented GRU equations, gates r, z, n, in NumPy."""
    out = []
    for t in range(len(x)):
        xr, xz, xn = np.split(x[t] @ w_ih.T + b_ih, 3, axis=-1)
        hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
        r, z = sig(xr + hr), sig(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        out.append(h)
    return np.stack(out), h


def weights(m, suffix):
    return [getattr(m, n + suffix).data for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def test_state_dict_keys_and_shapes_are_pytorchs():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in lstm.state_dict().items()} == {
        "weight_ih_l0": (20, 3), "weight_hh_l0": (20, 5), "bias_ih_l0": (20,), "bias_hh_l0": (20,),
        "weight_ih_l0_reverse": (20, 3), "weight_hh_l0_reverse": (20, 5), "bias_ih_l0_reverse": (20,),
        "bias_hh_l0_reverse": (20,),
        "weight_ih_l1": (20, 10), "weight_hh_l1": (20, 5), "bias_ih_l1": (20,), "bias_hh_l1": (20,),
        "weight_ih_l1_reverse": (20, 10), "weight_hh_l1_reverse": (20, 5), "bias_ih_l1_reverse": (20,),
        "bias_hh_l1_reverse": (20,),
    }
    assert list(lstm.state_dict())[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                           "weight_ih_l0_reverse"]
    assert list(nn.GRU(3, 4, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert nn.GRU(3, 4).weight_hh_l0.shape == (12, 4)
    assert list(nn.LSTMCell(3, 4).state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert nn.GRUCell(3, 4).weight_ih.shape == (12, 3)
    assert list(nn.RNN(2, 3, bidirectional=True).state_dict())[4] == "weight_ih_l0_reverse"


@pytest.mark.parametrize("make", [lambda: nn.LSTM(3, 16, num_layers=2), lambda: nn.GRU(3, 16),
                                  lambda: nn.LSTMCell(3, 16), lambda: nn.GRUCell(3, 16)])
def test_pytorchs_init_bounds(make):
    cr.random.seed(0)
    m = make()
    bound = 1 / math.sqrt(16)
    for p in m.parameters():
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.8 * bound


def test_lstm_matches_the_equations_both_directions():
    rng = np.random.default_rng(1)
    lstm = nn.LSTM(3, 4, bidirectional=True, batch_first=True).double()
    x = rng.standard_normal((2, 5, 3))
    h0, c0 = rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 2, 4))
    out, (hn, cn) = lstm(cr.tensor(x), (cr.tensor(h0), cr.tensor(c0)))
    xs = x.transpose(1, 0, 2)
    fo, fh, fc = lstm_ref(xs, h0[0], c0[0], *weights(lstm, "_l0"))
    bo, bh, bc = lstm_ref(xs, h0[1], c0[1], *weights(lstm, "_l0_reverse"), reverse=True)
    np.testing.assert_allclose(out.data, np.concatenate([fo, bo], -1).transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(hn.data, np.stack([fh, bh]), rtol=1e-12)
    np.testing.assert_allclose(cn.data, np.stack([fc, bc]), rtol=1e-12)
    np.testing.assert_allclose(out.data[:, -1, :4], fh)  # forward direction ends at the last step,
    np.testing.assert_allclose(out.data[:, 0, 4:], bh)  # the reverse one at the first


def test_gru_and_cells_match_the_equations():
    rng = np.random.default_rng(2)
    gru = nn.GRU(3, 4, num_layers=2).double()
    x, h0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 2, 4))
    out, hn = gru(cr.tensor(x), cr.tensor(h0))
    o0, h_0 = gru_ref(x, h0[0], *weights(gru, "_l0"))
    o1, h_1 = gru_ref(o0, h0[1], *weights(gru, "_l1"))
    np.testing.assert_allclose(out.data, o1, rtol=1e-12)
    np.testing.assert_allclose(hn.data, np.stack([h_0, h_1]), rtol=1e-12)
    cell = nn.GRUCell(3, 4).double()
    np.testing.assert_allclose(cell(cr.tensor(x[0]), cr.tensor(h0[0])).data,
                               gru_ref(x[:1], h0[0], *weights(cell, ""))[1], rtol=1e-12)
    lcell = nn.LSTMCell(3, 4).double()
    h, c = lcell(cr.tensor(x[0]))
    _, rh, rc = lstm_ref(x[:1], np.zeros((2, 4)), np.zeros((2, 4)), *weights(lcell, ""))
    np.testing.assert_allclose(h.data, rh, rtol=1e-12)
    np.testing.assert_allclose(c.data, rc, rtol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_gradients_through_time_by_finite_differences(kind):
    rng = np.random.default_rng(3)
    m = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True).double()
    x = rng.standard_normal((4, 1, 2))
    h0 = rng.standard_normal((4, 1, 3))
    if kind == "LSTM":
        c0 = rng.standard_normal((4, 1, 3))
        assert gradcheck(lambda a, h, c: m(a, (h, c))[0], (x, h0, c0))
        assert gradcheck(lambda a: m(a)[1][1], (x,))
    else:
        assert gradcheck(lambda a, h: m(a, h)[0], (x, h0))
        assert gradcheck(lambda a: m(a)[1], (x,))
    w = m.weight_hh_l1_reverse
    base = w.data.copy()

    def through_weight(v):
        w.data = v
        return m(cr.tensor(x))[0]
    out = m(cr.tensor(x))[0]
    (out * out).sum().backward()
    eps, i = 1e-6, (1, 2)
    up, down = base.copy(), base.copy()
    up[i] += eps
    down[i] -= eps
    fd = ((through_weight(up).data ** 2).sum() - (through_weight(down).data ** 2).sum()) / (2 * eps)
    w.data = base
    np.testing.assert_allclose(w.grad.data[i], fd, rtol=1e-6)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell"])
def test_cell_gradients(kind):
    rng = np.random.default_rng(4)
    cell = getattr(nn, kind)(2, 3).double()
    x, h, c = rng.standard_normal((2, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    if kind == "LSTMCell":
        assert gradcheck(lambda a, b, d: cell(a, (b, d))[1], (x, h, c))
    else:
        assert gradcheck(lambda a, b: cell(a, b), (x, h))


def test_unbatched_and_batch_first_agree():
    rng = np.random.default_rng(5)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    x = rng.standard_normal((5, 2, 3))
    out, (hn, cn) = lstm(cr.tensor(x))
    out_u, (hn_u, cn_u) = lstm(cr.tensor(x[:, 1]))
    assert out_u.shape == (5, 8) and hn_u.shape == (4, 4) and cn_u.shape == (4, 4)
    np.testing.assert_allclose(out_u.data, out.data[:, 1], rtol=1e-12)
    np.testing.assert_allclose(cn_u.data, cn.data[:, 1], rtol=1e-12)
    bf = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    bf.load_state_dict(lstm.state_dict())
    np.testing.assert_allclose(bf(cr.tensor(x.transpose(1, 0, 2)))[0].data, out.data.transpose(1, 0, 2))


def test_inter_layer_dropout():
    cr.random.seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5).double()
    x = cr.tensor(np.random.default_rng(6).standard_normal((5, 2, 3)))
    a, b = gru(x)[0].data, gru(x)[0].data
    assert not np.allclose(a, b)  # a fresh mask each call in training mode
    gru.eval()
    np.testing.assert_array_equal(gru(x)[0].data, gru(x)[0].data)
    one = nn.GRU(3, 4, num_layers=1, dropout=0.5)
    x32 = x.astype(np.float32)
    np.testing.assert_array_equal(one(x32)[0].data, one(x32)[0].data)  # no layer after the last one to drop into


def test_bad_input_names_module_argument_and_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = cr.zeros((5, 2, 3))
    with pytest.raises(ValueError, match=r"LSTM: expected input \(L, N, 3\).*got shape \(5, 2, 7\)"):
        lstm(cr.zeros((5, 2, 7)))
    with pytest.raises(ValueError, match=r"LSTM: c_0 must have shape \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(x, (cr.zeros((2, 2, 4)), cr.zeros((1, 2, 4))))
    with pytest.raises(ValueError, match=r"LSTM: hx must be a tuple \(h_0, c_0\)"):
        lstm(x, (cr.zeros((2, 2, 4)),))
    with pytest.raises(ValueError, match=r"GRU: hx must have shape \(4, 2, 4\), got \(2, 2, 4\)"):
        nn.GRU(3, 4, num_layers=2, bidirectional=True)(x, cr.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match=r"GRUCell: hx must have shape \(2, 4\) for input of shape \(2, 3\)"):
        nn.GRUCell(3, 4)(cr.zeros((2, 3)), cr.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"LSTMCell: expected input \(N, 3\)"):
        nn.LSTMCell(3, 4)(cr.zeros((2, 5)))
    with pytest.raises(ValueError, match="GRU: dropout must be between 0 and 1"):
        nn.GRU(3, 4, dropout=1.5)


def test_repr():
    assert repr(nn.LSTM(3, 4, num_layers=2, bidirectional=True)) == "LSTM(3, 4, num_layers=2, bidirectional=True)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"
