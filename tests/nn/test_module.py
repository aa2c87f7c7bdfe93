"""Module and Parameter: registration, dotted names, state dicts and their errors, modes, repr."""

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.register_buffer("counter", np.zeros(1), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def test_parameter_is_a_float32_leaf_that_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, cr.Tensor) and p.is_leaf and p.requires_grad
    assert p.dtype == np.float32  # Python floats default to float32
    a = np.zeros(3, dtype=np.float64)
    q = nn.Parameter(a)
    assert q.dtype == np.float64 and q.data is a  # arrays are used as they are
    assert repr(p).startswith("Parameter containing:")
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))
    assert not nn.Parameter(np.arange(3), requires_grad=False).requires_grad
    c = copy.deepcopy(p)
    assert isinstance(c, nn.Parameter) and c.data is not p.data and c.requires_grad


def test_named_parameters_buffers_and_state_dict_keys():
    m = nn.Sequential(Block(), nn.ReLU(), nn.Linear(4, 2))
    names = [n for n, _ in m.named_parameters()]
    assert names == ["0.scale", "0.fc.weight", "0.fc.bias", "0.bn.weight", "0.bn.bias", "2.weight", "2.bias"]
    assert [n for n, _ in m.named_buffers()] == [  # a module's own entries come before its children's
        "0.counter", "0.bn.running_mean", "0.bn.running_var", "0.bn.num_batches_tracked"]
    keys = list(m.state_dict())
    assert "0.counter" not in keys  # non-persistent buffers stay out
    assert keys[:3] == ["0.scale", "0.fc.weight", "0.fc.bias"]
    assert set(keys) == set(names) | {"0.bn.running_mean", "0.bn.running_var", "0.bn.num_batches_tracked"}
    sd = m.state_dict()
    assert all(isinstance(v, cr.Tensor) and not v.requires_grad for v in sd.values())
    assert sd["2.weight"].data is m[2].weight.data  # shares memory, like PyTorch


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_load_state_dict_round_trip_in_place():
    a, b = Block(), Block()
    b.fc.weight.data[...] = 0
    wb = b.fc.weight.data
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc.weight.data is wb  # copied in place: optimisers keep their references
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va.data, vb.data) and va.dtype == vb.dtype
    # plain arrays (as cr.load returns) work too
    b.load_state_dict({k: np.array(v.data) for k, v in a.state_dict().items()})


def test_backward_after_load_state_dict_is_refused():
    # the graph saved the old weight array; loading writes new values into it in place
    m = nn.Linear(3, 2, bias=False)
    x = cr.tensor(np.ones((1, 3), np.float32), requires_grad=True)
    loss = m(x).sum()
    m.load_state_dict(nn.Linear(3, 2, bias=False).state_dict())
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    # a graph recorded after the load is fine
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, m.weight.data.sum(0, keepdims=True))


def test_backward_after_loading_a_buffer_is_refused():
    bn = nn.BatchNorm1d(3).eval()  # eval mode: the graph reads the running statistics
    x = cr.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    loss = bn(x).sum()
    sd = {k: np.asarray(v.data).copy() for k, v in bn.state_dict().items()}
    sd["running_var"][...] = 4.0
    bn.load_state_dict(sd)
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_load_state_dict_errors_name_the_keys_and_change_nothing():
    m = nn.Sequential(nn.Linear(3, 2))
    before = m[0].weight.data.copy()
    sd = {k: np.array(v.data) for k, v in m.state_dict().items()}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias"'):
        m.load_state_dict({"0.weight": sd["0.weight"] + 1})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        m.load_state_dict({**sd, "extra": np.zeros(1)})
    bad = {**sd, "0.weight": np.zeros((2, 4))}
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight.*\(2, 4\).*\(2, 3\)"):
        m.load_state_dict(bad)
    with pytest.raises(RuntimeError, match="size mismatch"):  # even when not strict
        m.load_state_dict(bad, strict=False)
    np.testing.assert_array_equal(m[0].weight.data, before)
    missing, unexpected = m.load_state_dict({"0.weight": sd["0.weight"], "x": np.ones(1)}, strict=False)
    assert missing == ["0.bias"] and unexpected == ["x"]
    with pytest.raises(TypeError, match="0.weight"):
        m.load_state_dict({"0.weight": "zeros", "0.bias": sd["0.bias"]})


@pytest.mark.parametrize("bad", [
    np.array(["a", "b"]),  # a string array
    np.array([None, None]),  # objects (once loaded as NaN)
    np.array([1.5, 2.5], np.float64),  # into an int64 buffer: float into int loses the kind
    np.array([1 + 2j, 0j]),
    np.array(["2020-01-01", "2020-01-02"], "M8[D]"),
])
def test_load_state_dict_is_all_or_nothing_and_names_every_bad_key(bad):
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    before = {k: np.array(v.data) for k, v in m.state_dict().items()}
    sd = {k: v + 1 for k, v in before.items()}  # the first layer comes first: it must stay unchanged
    sd["1.bias"] = bad if bad.dtype.kind != "f" else bad.astype(np.int64)
    sd["1.num_batches_tracked"] = np.array(1.5) if bad.dtype.kind == "f" else before["1.num_batches_tracked"]
    sd["1.running_mean"] = np.zeros(3, np.float32)  # and a shape mismatch too
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    text = str(info.value)
    assert "1.running_mean" in text and ("1.bias" in text or "1.num_batches_tracked" in text)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])  # nothing changed


def test_load_state_dict_casts_within_a_kind():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    sd = {k: np.array(v.data).astype(np.float64 if v.dtype.kind == "f" else np.int32) + 1
          for k, v in m.state_dict().items()}
    sd["0.bias"] = np.array([True, False])  # bool is a number too
    m.load_state_dict(sd)
    assert m[0].weight.dtype == np.float32 and m[1].num_batches_tracked.dtype == np.int64
    assert m[0].bias.data.tolist() == [1.0, 0.0] and int(m[1].num_batches_tracked.data) == 1


class ForeignArray:
    """Another library's tensor: not an ndarray, but NumPy can read it through __array__."""

    def __init__(self, data, fail=False):
        self._data, self._fail = data, fail

    def __array__(self, dtype=None, copy=None):
        if self._fail:
            raise RuntimeError("can't convert a tensor on the GPU")
        return np.asarray(self._data, dtype=dtype)


def test_load_state_dict_accepts_anything_with_array_and_names_what_it_got():
    m = nn.Sequential(nn.Linear(3, 2))
    sd = {k: np.array(v.data) + 1 for k, v in m.state_dict().items()}
    m.load_state_dict({k: ForeignArray(v) for k, v in sd.items()})
    np.testing.assert_array_equal(m[0].weight.data, sd["0.weight"])
    assert m[0].weight.dtype == np.float32
    with pytest.raises(TypeError, match=r"'0.weight' \(tests\.nn\.test_module\.ForeignArray\) could not be read "
                                        r"as a NumPy array: can't convert a tensor on the GPU"):
        m.load_state_dict({"0.weight": ForeignArray(sd["0.weight"], fail=True), "0.bias": sd["0.bias"]})
    with pytest.raises(TypeError, match=r"'0.bias' must be an array, a Tensor or have __array__, got object"):
        m.load_state_dict({"0.weight": sd["0.weight"], "0.bias": object()})
    np.testing.assert_array_equal(m[0].weight.data, sd["0.weight"])  # nothing changed by the failed loads


def test_train_eval_zero_grad_and_requires_grad():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert m.training and m[1].training
    assert m.eval() is m and not m[1].training
    m.train()
    assert m[1].training
    out = m[0](cr.tensor(np.ones((1, 2), np.float32))).sum()
    out.backward()
    assert m[0].weight.grad is not None
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_repr_is_pytorch_like():
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 2))
    text = repr(m)
    assert text.splitlines()[0] == "Sequential("
    assert "(0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in text
    assert "(4): Linear(in_features=16, out_features=2, bias=True)" in text
    assert "(1): ReLU()" in text


def test_to_double_converts_and_keeps_training_possible():
    m = nn.Linear(3, 2).double()
    assert m.weight.dtype == np.float64
    m(cr.tensor(np.ones((1, 3)))).sum().backward()
    assert m.weight.grad.dtype == np.float64
    bn = nn.BatchNorm1d(2).to(np.float64)
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64


def test_registration_rules():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1, np.float32))  # before super().__init__()

    with pytest.raises(AttributeError, match="super"):
        Bad()
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter or None"):
        m.weight = np.ones((2, 2))
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    del m.weight
    assert list(m.named_parameters()) == []
    with pytest.raises(KeyError):
        nn.Module().add_module("a.b", nn.ReLU())


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head.state_dict()) == ["0.weight", "0.bias"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(list(seq)[3], nn.Sigmoid)
    with pytest.raises(IndexError):
        seq[7]
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]
    with pytest.raises(NotImplementedError):
        nn.Module()(1)


def test_float32_model_gives_float32_loss_and_gradients():
    cr.random.seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.LayerNorm(6), nn.Dropout(0.2),
                          nn.Linear(6, 3))
    x = cr.tensor(np.random.default_rng(0).random((5, 1, 4, 4), dtype=np.float32))
    loss = nn.CrossEntropyLoss()(model(x), np.array([0, 1, 2, 1, 0]))
    assert loss.dtype == np.float32
    loss.backward()
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, name
    assert model[5].running_mean.dtype == np.float32
