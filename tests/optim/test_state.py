"""Optimiser state dicts: PyTorch's layout, a flat form for cr.save, exact continuation after loading."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.io import load, save
from chainrule.nn import functional as F

rng = np.random.default_rng(2)
X = rng.standard_normal((16, 3)).astype(np.float32)
Y = rng.integers(0, 2, 16)


def train(model, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(cr.tensor(X)), Y).backward()
        opt.step()


def fresh(opt_cls, **kw):
    cr.random.seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    return model, opt_cls(model.parameters(), **kw)


@pytest.mark.parametrize("opt_cls,kw", [(optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                        (optim.Adam, {"lr": 0.01, "amsgrad": True}),
                                        (optim.AdamW, {"lr": 0.01})], ids=["sgd", "adam", "adamw"])
def test_save_load_continues_bit_for_bit(opt_cls, kw, tmp_path):
    straight, opt = fresh(opt_cls, **kw)
    train(straight, opt, 5)

    first, opt1 = fresh(opt_cls, **kw)
    train(first, opt1, 3)
    path = tmp_path / "ckpt.safetensors"
    state = {"model." + k: v for k, v in first.state_dict().items()}
    state.update(optim.flatten_state_dict(opt1.state_dict(), prefix="opt."))
    save(state, path)
    loaded = load(path)

    second, opt2 = fresh(opt_cls, lr=123.0)  # hyperparameters come back from the checkpoint too
    second.load_state_dict({k[6:]: v for k, v in loaded.items() if k.startswith("model.")})
    opt2.load_state_dict({k[4:]: v for k, v in loaded.items() if k.startswith("opt.")})
    assert opt2.param_groups[0]["lr"] == kw["lr"] and isinstance(opt2.param_groups[0]["lr"], float)
    train(second, opt2, 2)
    for (name, a), (_, b) in zip(straight.state_dict().items(), second.state_dict().items()):
        assert np.array_equal(a.data, b.data), name


def test_state_dict_layout_is_pytorchs():
    model, opt = fresh(optim.Adam, lr=0.01)
    train(model, opt, 1)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    flat = optim.flatten_state_dict(sd)
    assert flat["state.0.exp_avg"].shape == (4, 3) and flat["param_groups.0.params"].dtype == np.int64
    back = optim.unflatten_state_dict(flat)
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["param_groups"][0]["amsgrad"] is False


def test_load_state_dict_errors():
    model, opt = fresh(optim.SGD, lr=0.1, momentum=0.9)
    train(model, opt, 1)
    sd = opt.state_dict()
    other = optim.SGD([nn.Parameter(np.zeros(1, np.float32))], lr=0.1)
    with pytest.raises(ValueError, match="has 4 parameters"):
        other.load_state_dict(sd)
    two_groups = optim.SGD([{"params": list(model.parameters())[:2]}, {"params": list(model.parameters())[2:]}])
    with pytest.raises(ValueError, match="1 parameter groups"):
        two_groups.load_state_dict(sd)
    wrong = {"state": {0: {"momentum_buffer": np.zeros((9, 9))}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"shape \(9, 9\)"):
        opt.load_state_dict(wrong)
