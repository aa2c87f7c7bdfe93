"""Layers: PyTorch's initialisations and layouts, BatchNorm's statistics, LayerNorm, Embedding, RNN."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.io import load, save
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.testing import gradcheck

rng = np.random.default_rng(0)


def t(a, grad=False):
    return cr.tensor(np.asarray(a), requires_grad=grad)


def test_linear_layout_init_and_forward():
    cr.random.seed(0)
    layer = nn.Linear(400, 30)
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (30, 400) and b.shape == (30,) and w.dtype == b.dtype == np.float32
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=√5) = U(±1/√fan_in), PyTorch's default
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    x = rng.standard_normal((7, 400)).astype(np.float32)
    np.testing.assert_allclose(layer(t(x)).data, x @ w.T + b, rtol=1e-5, atol=1e-6)
    assert nn.Linear(3, 2, bias=False).bias is None
    cr.random.seed(0)
    again = nn.Linear(400, 30)
    np.testing.assert_array_equal(again.weight.data, w)  # seeded


def test_conv2d_layout_and_init():
    cr.random.seed(1)
    conv = nn.Conv2d(3, 8, (3, 5), stride=2, padding=1)
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias.shape == (8,)
    bound = 1 / math.sqrt(3 * 3 * 5)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert conv(t(np.zeros((2, 3, 9, 9), np.float32))).shape == (2, 8, 5, 4)


def test_init_functions():
    cr.random.seed(0)
    w = np.zeros((64, 32), np.float32)
    init.xavier_uniform_(w)
    assert np.abs(w).max() <= math.sqrt(6 / 96)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.std() - math.sqrt(2 / 32)) < 0.02
    init.constant_(w, 0.5)
    assert (w == 0.5).all() and w.dtype == np.float32
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="at least 2"):
        init.xavier_uniform_(np.zeros(3))


def test_batchnorm1d_training_statistics_and_eval():
    x = rng.standard_normal((8, 3)).astype(np.float32) * 2 + 1
    bn = nn.BatchNorm1d(3)
    y = bn(t(x)).data
    mu, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mu, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == 1 and bn.running_mean.dtype == np.float32
    bn.eval()
    y = bn(t(x)).data
    np.testing.assert_allclose(y, (x - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5), rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == 1  # eval does not update
    # momentum=None: a cumulative average
    cum = nn.BatchNorm1d(3, momentum=None)
    cum(t(x))
    cum(t(x + 2))
    np.testing.assert_allclose(cum.running_mean.data, x.mean(0) + 1, rtol=1e-5)
    # (N, C, L) inputs normalise over N and L
    x3 = rng.standard_normal((4, 3, 5))
    y3 = nn.BatchNorm1d(3, dtype=np.float64)(t(x3)).data
    m3, v3 = x3.mean((0, 2), keepdims=True), x3.var((0, 2), keepdims=True)
    np.testing.assert_allclose(y3, (x3 - m3) / np.sqrt(v3 + 1e-5), rtol=1e-10)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(t(np.ones((1, 3), np.float32)))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        nn.BatchNorm1d(3)(t(np.ones((4, 2), np.float32)))


def test_batchnorm_gradients():
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn.weight.data[...] = [0.5, 2.0, -1.0]
    bn.bias.data[...] = [0.1, 0.0, 0.3]
    x = rng.standard_normal((5, 3))
    assert gradcheck(lambda a: bn(a) * t([1.0, 2.0, 3.0]), (x,))
    ln = nn.LayerNorm(4, dtype=np.float64)
    assert gradcheck(lambda a: ln(a) * t(np.arange(4.0)), (rng.standard_normal((2, 4)),))


def test_batchnorm_state_dict_round_trips_bit_exactly_through_save(tmp_path):
    bn = nn.BatchNorm1d(4)
    for _ in range(3):
        bn(t(rng.standard_normal((6, 4)).astype(np.float32)))
    path = tmp_path / "bn.safetensors"
    save(bn.state_dict(), path)
    loaded = load(path)
    fresh = nn.BatchNorm1d(4)
    fresh.load_state_dict(loaded)
    for (k, a), (_, b) in zip(bn.state_dict().items(), fresh.state_dict().items()):
        assert a.dtype == b.dtype and np.array_equal(a.data, b.data), k
    assert int(fresh.num_batches_tracked.data) == 3


def test_layernorm():
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    ln = nn.LayerNorm((3, 4))
    ln.weight.data[...] = 2.0
    ln.bias.data[...] = 1.0
    m, v = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(ln(t(x)).data, 2 * (x - m) / np.sqrt(v + 1e-5) + 1, rtol=1e-4, atol=1e-5)
    assert list(ln.state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(t(np.ones((2, 4, 3), np.float32)))


def test_embedding_lookup_gradient_and_padding():
    cr.random.seed(0)
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert (emb.weight.data[0] == 0).all() and emb.weight.dtype == np.float32
    ids = np.array([[1, 2, 1], [0, 4, 1]])
    out = emb(ids)
    np.testing.assert_array_equal(out.data, emb.weight.data[ids])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.data[:, 0], [0, 3, 1, 0, 1])  # repeats add; padding gets none
    with pytest.raises(IndexError, match="id 5"):
        emb(np.array([5]))
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([1.0]))


def rnn_ref(x, h0, params, layers, act=np.tanh):
    seq = x
    finals = []
    for layer in range(layers):
        w_ih, w_hh, b_ih, b_hh = params[4 * layer : 4 * layer + 4]
        h = h0[layer]
        outs = []
        for step in range(seq.shape[0]):
            h = act(seq[step] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
            outs.append(h)
        finals.append(h)
        seq = np.stack(outs)
    return seq, np.stack(finals)


def test_rnn_matches_the_recurrence():
    cr.random.seed(0)
    rnn = nn.RNN(3, 5, num_layers=2)
    names = [n for n, _ in rnn.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"] and len(names) == 8
    bound = 1 / math.sqrt(5)
    assert all(np.abs(p.data).max() <= bound for p in rnn.parameters())
    params = [p.data.astype(np.float64) for p in rnn.parameters()]
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    h0 = rng.standard_normal((2, 2, 5)).astype(np.float32)
    out, hn = rnn(t(x), t(h0))
    ref_out, ref_hn = rnn_ref(x, h0, params, 2)
    np.testing.assert_allclose(out.data, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hn.data, ref_hn, rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32
    # batch_first and unbatched inputs
    rnn_bf = nn.RNN(3, 5, num_layers=2, batch_first=True)
    rnn_bf.load_state_dict(rnn.state_dict())
    out_bf, _ = rnn_bf(t(x.transpose(1, 0, 2)))
    ref0, _ = rnn_ref(x, np.zeros((2, 2, 5)), params, 2)
    np.testing.assert_allclose(out_bf.data, ref0.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)
    out_u, hn_u = rnn(t(x[:, 0]))
    assert out_u.shape == (4, 5) and hn_u.shape == (2, 5)
    np.testing.assert_allclose(out_u.data, ref0[:, 0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="hx must have shape"):
        rnn(t(x), t(np.zeros((1, 2, 5), np.float32)))


def test_rnn_gradients_through_time():
    rnn = nn.RNN(2, 3, nonlinearity="tanh").double()
    x = rng.standard_normal((4, 1, 2))
    assert gradcheck(lambda a: rnn(a)[0], (x,))
    cell = nn.RNNCell(2, 3).double()
    h = rng.standard_normal((1, 3))
    assert gradcheck(lambda a, b: cell(a, b), (x[0], h))


def test_small_modules():
    x = t(np.array([[-1.0, 2.0]]))
    np.testing.assert_allclose(nn.Softmax(axis=1)(x).data, F.softmax(x, axis=1).data)
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).data, F.softmax(x, axis=1).data)
    np.testing.assert_allclose(nn.LogSoftmax()(x).data, F.log_softmax(x).data)
    np.testing.assert_allclose(nn.Sigmoid()(x).data, F.sigmoid(x).data)
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh([[-1.0, 2.0]]))
    assert nn.Flatten()(t(np.zeros((2, 3, 4)))).shape == (2, 12)
    assert nn.Flatten(0, 1)(t(np.zeros((2, 3, 4)))).shape == (6, 4)
    assert nn.Identity()(x) is x
    y = np.array([1])
    assert nn.CrossEntropyLoss()(x, y).item() == pytest.approx(F.cross_entropy(x, y).item())
    assert nn.MSELoss(reduction="sum")(x, t([[0.0, 0.0]])).item() == pytest.approx(5.0)
    assert nn.NLLLoss()(x, y).item() == pytest.approx(-2.0)
    assert nn.BCEWithLogitsLoss()(x, t([[0.0, 1.0]])).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(x, t([[0.0, 1.0]])).item())
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_integer_inputs_take_the_weight_dtype():
    assert nn.Linear(3, 2)(np.ones((2, 3), np.int64)).dtype == np.float32
    assert nn.Conv2d(1, 2, 3)(np.ones((1, 1, 4, 4), np.uint8)).dtype == np.float32
    assert F.conv2d([[[[1.0, 2.0], [3.0, 4.0]]]], t(np.ones((1, 1, 2, 2)))).data.item() == 10.0
