"""Attention and Transformer encoder without PyTorch: shapes, masks, closed forms, keys, finite differences."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

f64 = np.float64


def gen(seed=0):
    return np.random.default_rng(seed)


def naive_attention(q, k, v, add=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if add is not None:
        s = s + add
    s = s - s.max(-1, keepdims=True)
    w = np.exp(s)
    w /= w.sum(-1, keepdims=True)
    return w @ v


def test_sdpa_matches_the_closed_form_with_bool_float_and_causal_masks():
    rng = gen()
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 6, 2))
    out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v))
    np.testing.assert_allclose(out.data, naive_attention(q, k, v), atol=1e-12)
    keep = rng.random((4, 6)) > 0.3
    keep[:, 0] = True
    out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), attn_mask=keep)
    np.testing.assert_allclose(out.data, naive_attention(q, k, v, np.where(keep, 0.0, -np.inf)), atol=1e-12)
    add = rng.normal(size=(4, 6))
    out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), attn_mask=add)
    np.testing.assert_allclose(out.data, naive_attention(q, k, v, add), atol=1e-12)
    out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), is_causal=True)
    causal = np.where(np.tril(np.ones((4, 6), bool)), 0.0, -np.inf)
    np.testing.assert_allclose(out.data, naive_attention(q, k, v, causal), atol=1e-12)
    out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), scale=0.3)
    np.testing.assert_allclose(out.data, naive_attention(q * 0.3 * np.sqrt(5), k, v), atol=1e-12)


def test_sdpa_causal_first_query_sees_only_the_first_key():
    rng = gen(1)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    out = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), is_causal=True)
    np.testing.assert_allclose(out.data[0], v[0], atol=1e-12)


def test_sdpa_gradients_match_finite_differences():
    rng = gen(2)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
    mask = rng.normal(size=(3, 5))
    assert cr.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), (q, k, v))
    causal = (q, k[:, :3], v[:, :3])
    assert cr.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), causal)


def test_sdpa_bad_input_names_the_shapes():
    q = cr.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"query \(2, 3, 4\) and key \(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, cr.tensor(np.zeros((2, 3, 5))), q)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 4\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)


def test_mha_parameter_names_shapes_and_init():
    mha = nn.MultiheadAttention(8, 2)
    sd = mha.state_dict()
    assert list(sd) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert [sd[k].shape for k in sd] == [(24, 8), (24,), (8, 8), (8,)]
    assert np.all(sd["in_proj_bias"].data == 0) and np.all(sd["out_proj.bias"].data == 0)
    assert np.abs(sd["in_proj_weight"].data).max() <= np.sqrt(6.0 / 32)  # Xavier-uniform bound
    other = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert {k: v.shape for k, v in other.state_dict().items()} == {
        "q_proj_weight": (8, 8), "k_proj_weight": (8, 3), "v_proj_weight": (8, 5), "out_proj.weight": (8, 8)}


def _numpy_mha(mha, q, k, v, add=None):
    """The same computation written in NumPy: projections, heads, attention, output projection."""
    E, H = mha.embed_dim, mha.num_heads
    W, b = mha.in_proj_weight.data, mha.in_proj_bias.data
    heads = [x @ W[i * E : (i + 1) * E].T + b[i * E : (i + 1) * E] for i, x in enumerate((q, k, v))]
    N, L = q.shape[0], q.shape[1]
    qh, kh, vh = (h.reshape(N, -1, H, E // H).transpose(0, 2, 1, 3) for h in heads)
    o = naive_attention(qh, kh, vh, add).transpose(0, 2, 1, 3).reshape(N, L, E)
    return o @ mha.out_proj.weight.data.T + mha.out_proj.bias.data


def test_mha_matches_numpy_and_masked_keys_get_no_weight():
    rng = gen(3)
    mha = nn.MultiheadAttention(6, 3, batch_first=True, dtype=f64)
    nn.init.normal_(mha.in_proj_bias)
    q, k = rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 5, 6))
    kpm = np.zeros((2, 5), bool)
    kpm[0, 1] = kpm[1, 4] = True
    am = rng.normal(size=(4, 5))
    out, w = mha(cr.tensor(q), cr.tensor(k), cr.tensor(k), key_padding_mask=kpm, attn_mask=am)
    add = am[None, None] + np.where(kpm, -np.inf, 0.0)[:, None, None, :]
    np.testing.assert_allclose(out.data, _numpy_mha(mha, q, k, k, add), atol=1e-12)
    assert w.shape == (2, 4, 5)
    assert np.all(w.data[0, :, 1] == 0) and np.all(w.data[1, :, 4] == 0)
    np.testing.assert_allclose(w.data.sum(-1), 1.0, atol=1e-12)
    # a boolean attn_mask: True forbids; here the strict upper triangle (causal)
    causal = np.triu(np.ones((4, 4), bool), 1)
    _, w = mha(cr.tensor(q), cr.tensor(q), cr.tensor(q), attn_mask=causal, average_attn_weights=False)
    assert w.shape == (2, 3, 4, 4) and np.all(w.data[..., causal] == 0)
    per_batch_head = np.broadcast_to(causal, (6, 4, 4))
    out2, _ = mha(cr.tensor(q), cr.tensor(q), cr.tensor(q), attn_mask=per_batch_head)
    out1, _ = mha(cr.tensor(q), cr.tensor(q), cr.tensor(q), attn_mask=causal)
    np.testing.assert_allclose(out2.data, out1.data, atol=1e-12)


def test_mha_layouts_agree_sequence_first_batch_first_and_unbatched():
    rng = gen(4)
    a = nn.MultiheadAttention(4, 2, dtype=f64)
    b = nn.MultiheadAttention(4, 2, batch_first=True, dtype=f64)
    b.load_state_dict(a.state_dict())
    x = rng.normal(size=(3, 2, 4))  # (L, N, E)
    out_a, w_a = a(cr.tensor(x), cr.tensor(x), cr.tensor(x))
    out_b, w_b = b(*(cr.tensor(x.transpose(1, 0, 2)),) * 3)
    np.testing.assert_allclose(out_a.data, out_b.data.transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(w_a.data, w_b.data, atol=1e-12)
    out_u, w_u = a(*(cr.tensor(x[:, 0]),) * 3, need_weights=True)
    np.testing.assert_allclose(out_u.data, out_a.data[:, 0], atol=1e-12)
    assert w_u.shape == (3, 3)
    assert a(*(cr.tensor(x),) * 3, need_weights=False)[1] is None


def _check_param_grads(model, loss, eps=1e-6, seed=0):
    """Every parameter's gradient against a central difference along a random direction."""
    model.zero_grad()
    loss().backward()
    rng = gen(seed)
    for name, p in model.named_parameters():
        d = rng.normal(size=p.shape)
        analytic = float(np.sum(p.grad.data * d))
        base = p.data.copy()
        p.data[...] = base + eps * d
        up = float(loss().data)
        p.data[...] = base - eps * d
        down = float(loss().data)
        p.data[...] = base
        assert abs(analytic - (up - down) / (2 * eps)) <= 1e-6 * (1 + abs(analytic)), name


def test_mha_gradients_match_finite_differences():
    rng = gen(5)
    mha = nn.MultiheadAttention(4, 2, dtype=f64)
    nn.init.normal_(mha.in_proj_bias)
    q, k = rng.normal(size=(3, 2, 4)), rng.normal(size=(5, 2, 4))
    kpm = np.array([[False] * 4 + [True], [False] * 5])
    g = rng.normal(size=(3, 2, 4))
    _check_param_grads(mha, lambda: (mha(cr.tensor(q), cr.tensor(k), cr.tensor(k), key_padding_mask=kpm)[0] * g).sum())
    assert cr.gradcheck(lambda a, b: mha(a, b, b, key_padding_mask=kpm)[0], (q, k))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_gradients_match_finite_differences(norm_first, activation):
    rng = gen(6)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, activation=activation, norm_first=norm_first,
                                       batch_first=True, dtype=f64)
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4, dtype=f64)).eval()
    for p in enc.parameters():  # away from ReLU kinks and the identity LayerNorm
        nn.init.normal_(p, 0.0, 0.5)
    x = rng.normal(size=(2, 3, 4))
    g = rng.normal(size=(2, 3, 4))
    mask = np.triu(np.ones((3, 3), bool), 1)
    _check_param_grads(enc, lambda: (enc(cr.tensor(x), mask=mask) * g).sum())
    assert cr.gradcheck(lambda a: enc(a, mask=mask), (x,))


def test_encoder_state_dict_keys_and_independent_copies():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    enc = nn.TransformerEncoder(layer, 2)
    keys = [k for k in enc.state_dict() if k.startswith("layers.0.")]
    assert keys == [
        "layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
        "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias",
        "layers.0.linear1.weight", "layers.0.linear1.bias", "layers.0.linear2.weight", "layers.0.linear2.bias",
        "layers.0.norm1.weight", "layers.0.norm1.bias", "layers.0.norm2.weight", "layers.0.norm2.bias",
    ]
    assert len(enc.state_dict()) == 24
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    assert isinstance(layer.dropout, nn.Dropout) and layer.dropout1.p == 0.1 and layer.linear1.out_features == 16


def test_encoder_layer_post_norm_closed_form_and_padding_does_not_leak():
    rng = gen(7)
    layer = nn.TransformerEncoderLayer(4, 1, dim_feedforward=5, batch_first=True, dtype=f64).eval()
    x = rng.normal(size=(1, 3, 4))
    kpm = np.array([[False, False, True]])
    y = layer(cr.tensor(x), src_key_padding_mask=kpm)
    x2 = x.copy()
    x2[0, 2] += 10.0  # a padded position changes: the others must not
    y2 = layer(cr.tensor(x2), src_key_padding_mask=kpm)
    np.testing.assert_allclose(y.data[0, :2], y2.data[0, :2], atol=1e-12)
    sa = _numpy_mha(layer.self_attn, x, x, x, np.where(kpm, -np.inf, 0.0)[:, None, None, :])

    def ln(h):
        return (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-5)
    h = ln(x + sa)
    ff = np.maximum(h @ layer.linear1.weight.data.T + layer.linear1.bias.data, 0)
    h = ln(h + ff @ layer.linear2.weight.data.T + layer.linear2.bias.data)
    np.testing.assert_allclose(y.data, h, atol=1e-12)


def test_dropout_is_active_only_in_training():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.5)
    x = cr.tensor(gen(8).normal(size=(3, 2, 4)).astype(np.float32))
    cr.random.seed(0)
    a, b = layer(x).data, layer(x).data
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)


def test_mha_bad_input_names_module_argument_and_shapes():
    mha = nn.MultiheadAttention(4, 2)
    x = cr.tensor(np.zeros((3, 2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"MultiheadAttention: attn_mask must have shape \(3, 3\).*got \(2, 3\)"):
        mha(x, x, x, attn_mask=np.zeros((2, 3), bool))
    with pytest.raises(ValueError, match=r"MultiheadAttention: key_padding_mask must have shape \(2, 3\)"):
        mha(x, x, x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(TypeError, match="MultiheadAttention: key_padding_mask must be boolean or floating"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"MultiheadAttention: query, key, value shapes \(3, 2, 5\)"):
        y = cr.tensor(np.zeros((3, 2, 5), dtype=np.float32))
        mha(y, y, y)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="TransformerEncoderLayer: activation"):
        nn.TransformerEncoderLayer(4, 2, activation="swish")
