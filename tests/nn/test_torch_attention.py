"""Attention and Transformer encoder against PyTorch: outputs, input gradients and every parameter gradient.

Skipped without torch; test_attention.py covers the same ground with closed forms and finite differences.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")  # torch's own
TOL = {np.float64: 1e-10, np.float32: 2e-4}


def gen(seed=0):
    return np.random.default_rng(seed)


def load(ours, theirs, rng):
    """Random weights everywhere (torch starts norms at 1/0 and biases at 0, which hides mistakes), copied over."""
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.normal(0.0, 0.4, size=tuple(p.shape))))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())


def compare(ours, theirs, inputs, call, dtype, rng):
    """Run ``call(module, *inputs)`` in both; compare the output, each input's gradient and every parameter's."""
    tol = TOL[dtype]
    t_in = [torch.tensor(x, requires_grad=True) for x in inputs]
    c_in = [cr.tensor(x, requires_grad=True) for x in inputs]
    yt, yc = call(theirs, *t_in), call(ours, *c_in)
    np.testing.assert_allclose(yc.data, yt.detach().numpy(), atol=tol, rtol=tol)
    g = rng.normal(size=tuple(yt.shape)).astype(dtype)
    (yt * torch.from_numpy(g)).sum().backward()
    (yc * g).sum().backward()
    for a, b in zip(c_in, t_in):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=tol, rtol=tol)
    theirs_p = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, theirs_p[name].grad.numpy(), atol=tol, rtol=tol, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_sdpa_matches_torch(dtype, mask):
    rng = gen(1)
    q, k, v = (rng.normal(size=s).astype(dtype) for s in ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2)))
    kw = {}
    if mask == "bool":
        m = rng.random((4, 6)) > 0.3
        m[:, 0] = True
        kw["attn_mask"] = m
    elif mask == "float":
        kw["attn_mask"] = rng.normal(size=(4, 6)).astype(dtype)
    elif mask == "causal":
        kw["is_causal"] = True
    tkw = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    tin = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    cin = [cr.tensor(x, requires_grad=True) for x in (q, k, v)]
    yt = torch.nn.functional.scaled_dot_product_attention(*tin, **tkw)
    yc = F.scaled_dot_product_attention(*cin, **kw)
    tol = TOL[dtype]
    np.testing.assert_allclose(yc.data, yt.detach().numpy(), atol=tol, rtol=tol)
    yt.sum().backward()
    yc.sum().backward()
    for a, b in zip(cin, tin):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_matches_torch_with_masks_and_weights(dtype, batch_first):
    rng = gen(2)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).to(torch.float64 if dtype == np.float64
                                                                           else torch.float32)
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=dtype)
    load(ours, theirs, rng)
    N, L, S = 3, 4, 5
    shape = (lambda n: (N, n, 8)) if batch_first else (lambda n: (n, N, 8))
    q, k, v = rng.normal(size=shape(L)).astype(dtype), rng.normal(size=shape(S)).astype(dtype), \
        rng.normal(size=shape(S)).astype(dtype)
    kpm = np.zeros((N, S), bool)
    kpm[0, 2] = kpm[2, 4] = True
    am = rng.normal(size=(L, S)).astype(dtype)
    for avg in (True, False):
        def call(m, a, b, c, avg=avg):
            masks = (kpm, am) if isinstance(a, cr.Tensor) else (torch.from_numpy(kpm), torch.from_numpy(am))
            return m(a, b, c, key_padding_mask=masks[0], attn_mask=masks[1], average_attn_weights=avg)[0]
        compare(ours, theirs, (q, k, v), call, dtype, rng)
        ours.zero_grad()
        theirs.zero_grad()
        tw = theirs(*map(torch.from_numpy, (q, k, v)), key_padding_mask=torch.from_numpy(kpm),
                    attn_mask=torch.from_numpy(am), average_attn_weights=avg)[1]
        cw = ours(*map(cr.tensor, (q, k, v)), key_padding_mask=kpm, attn_mask=am, average_attn_weights=avg)[1]
        np.testing.assert_allclose(cw.data, tw.detach().numpy(), atol=TOL[dtype], rtol=TOL[dtype])


def test_mha_self_attention_with_boolean_per_head_mask_matches_torch():
    rng = gen(3)
    theirs = torch.nn.MultiheadAttention(6, 3).double()
    ours = nn.MultiheadAttention(6, 3, dtype=np.float64)
    load(ours, theirs, rng)
    x = rng.normal(size=(4, 2, 6))
    am = rng.random((6, 4, 4)) > 0.5
    am[..., 0] = False  # every query keeps one key

    def call(m, a):
        mask = am if isinstance(a, cr.Tensor) else torch.from_numpy(am)
        return m(a, a, a, attn_mask=mask, need_weights=False)[0]
    compare(ours, theirs, (x,), call, np.float64, rng)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_matches_torch(dtype, norm_first, activation, batch_first):
    rng = gen(4)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16, activation=activation, batch_first=batch_first,
                                         norm_first=norm_first),
        2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).to(tdt).eval()
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, activation=activation, batch_first=batch_first, norm_first=norm_first,
                                   dtype=dtype),
        2, norm=nn.LayerNorm(8, dtype=dtype)).eval()
    load(ours, theirs, rng)
    N, L = 3, 5
    x = rng.normal(size=(N, L, 8) if batch_first else (L, N, 8)).astype(dtype)
    kpm = np.zeros((N, L), bool)
    kpm[1, -2:] = True
    causal = np.triu(np.ones((L, L), bool), 1)

    def call(m, a):
        if isinstance(a, cr.Tensor):
            return m(a, mask=causal, src_key_padding_mask=kpm)
        return m(a, mask=torch.from_numpy(causal), src_key_padding_mask=torch.from_numpy(kpm))
    compare(ours, theirs, (x,), call, dtype, rng)
