"""LSTM, GRU, bidirectional RNN and the cells against PyTorch: outputs, final states and every gradient.

Skipped without torch; tests/nn/test_recurrent.py checks the same modules by
finite differences, a NumPy reference and literal state-dict keys.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402

KINDS = {"LSTM": (nn.LSTM, torch.nn.LSTM), "GRU": (nn.GRU, torch.nn.GRU), "RNN": (nn.RNN, torch.nn.RNN)}
OPTIONS = [{}, {"batch_first": True}, {"num_layers": 2}, {"bidirectional": True},
           {"num_layers": 2, "bidirectional": True, "batch_first": True}, {"bias": False},
           {"num_layers": 3, "bidirectional": True, "bias": False}]
TOL = {np.float64: (1e-10, 1e-11), np.float32: (1e-4, 1e-5)}


def close(a, b, what, dtype):
    a = a.data if isinstance(a, cr.Tensor) else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, (what, a.shape, b.shape)
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def pair(kind, dtype, *args, **kw):
    """Our module with torch's weights (torch initialises, we load its state_dict)."""
    ours, theirs = KINDS[kind][0](*args, **kw), KINDS[kind][1](*args, **kw)
    theirs = theirs.double() if dtype == np.float64 else theirs
    ours.load_state_dict(theirs.state_dict())
    ours = ours.double() if dtype == np.float64 else ours
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def flat(states):
    return list(states) if isinstance(states, tuple) else [states]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["no h0", "h0"])
@pytest.mark.parametrize("kw", OPTIONS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_sequence_module(kind, kw, with_h0, dtype):
    rng = np.random.default_rng(3)
    torch.manual_seed(0)
    cm, tm = pair(kind, dtype, 3, 5, **kw)
    dirs = 2 if kw.get("bidirectional") else 1
    x = rng.standard_normal((2, 4, 3) if kw.get("batch_first") else (4, 2, 3)).astype(dtype)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if with_h0:
        hs = [rng.standard_normal((kw.get("num_layers", 1) * dirs, 2, 5)).astype(dtype)
              for _ in range(2 if kind == "LSTM" else 1)]
        hc = [cr.tensor(h, requires_grad=True) for h in hs]
        ht = [torch.tensor(h, requires_grad=True) for h in hs]
        (oc, nc), (ot, nt) = cm(xc, tuple(hc) if kind == "LSTM" else hc[0]), tm(xt, tuple(ht) if kind == "LSTM"
                                                                               else ht[0])
    else:
        (oc, nc), (ot, nt) = cm(xc), tm(xt)
    close(oc, ot, "output", dtype)
    for a, b in zip(flat(nc), flat(nt)):
        close(a, b, "final state", dtype)
    lc, lt = 0, 0
    for a, b in zip([oc] + flat(nc), [ot] + flat(nt)):
        g = rng.standard_normal(a.shape).astype(dtype)
        lc, lt = lc + (a * g).sum(), lt + (b * torch.from_numpy(g)).sum()
    lc.backward()
    lt.backward()
    close(xc.grad, xt.grad, "input gradient", dtype)
    if with_h0:
        for a, b in zip(hc, ht):
            close(a.grad, b.grad, "initial state gradient", dtype)
    params_t = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        close(p.grad, params_t[name].grad, f"gradient of {name}", dtype)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_unbatched(kind):
    rng = np.random.default_rng(4)
    cm, tm = pair(kind, np.float64, 3, 5, num_layers=2, bidirectional=True)
    x = rng.standard_normal((4, 3))
    (oc, nc), (ot, nt) = cm(cr.tensor(x)), tm(torch.from_numpy(x))
    close(oc, ot, "output", np.float64)
    for a, b in zip(flat(nc), flat(nt)):
        close(a, b, "final state", np.float64)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells(kind, batched):
    rng = np.random.default_rng(5)
    ours, theirs = getattr(nn, kind)(3, 5), getattr(torch.nn, kind)(3, 5).double()
    ours.load_state_dict(theirs.state_dict())
    ours = ours.double()
    lead = (2,) if batched else ()
    x = rng.standard_normal(lead + (3,))
    hs = [rng.standard_normal(lead + (5,)) for _ in range(2 if kind == "LSTMCell" else 1)]
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    hc = [cr.tensor(h, requires_grad=True) for h in hs]
    ht = [torch.tensor(h, requires_grad=True) for h in hs]
    yc = ours(xc, tuple(hc) if kind == "LSTMCell" else hc[0])
    yt = theirs(xt, tuple(ht) if kind == "LSTMCell" else ht[0])
    lc, lt = 0, 0
    for a, b in zip(flat(yc), flat(yt)):
        close(a, b, "output", np.float64)
        g = rng.standard_normal(a.shape)
        lc, lt = lc + (a * g).sum(), lt + (b * torch.from_numpy(g)).sum()
    lc.backward()
    lt.backward()
    close(xc.grad, xt.grad, "input gradient", np.float64)
    for a, b in zip(hc, ht):
        close(a.grad, b.grad, "state gradient", np.float64)
    params_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, params_t[name].grad, f"gradient of {name}", np.float64)


def test_dropout_between_layers_is_off_in_eval():
    cm, tm = pair("LSTM", np.float64, 3, 5, num_layers=2, dropout=0.5)
    cm.eval()
    tm.eval()
    x = np.random.default_rng(6).standard_normal((4, 2, 3))
    close(cm(cr.tensor(x))[0], tm(torch.from_numpy(x))[0], "output", np.float64)
