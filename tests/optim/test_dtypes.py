"""Parameters and optimiser state keep the parameter's dtype whatever the hyperparameters' types; SGD's signature."""

import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

# NumPy 2 promotes float32 with an np.float64 scalar or a 0-d float64 array to float64; a Python float is weak.
HYPER_TYPES = {
    "python": float,
    "np.float64": np.float64,
    "0-d float64": lambda v: np.array(v, dtype=np.float64),
    "tensor": lambda v: cr.tensor(np.array(v, dtype=np.float64)),
}
MAKERS = {
    "SGD": lambda w, h: optim.SGD([w], lr=h(0.1), momentum=h(0.9), weight_decay=h(0.1), dampening=h(0.1)),
    "SGD nesterov": lambda w, h: optim.SGD([w], lr=h(0.1), momentum=h(0.9), weight_decay=h(0.1), nesterov=True),
    "Adam": lambda w, h: optim.Adam([w], lr=h(0.01), betas=(h(0.8), h(0.9)), eps=h(1e-8), weight_decay=h(0.1)),
    "Adam amsgrad": lambda w, h: optim.Adam([w], lr=h(0.01), weight_decay=h(0.1), amsgrad=True),
    "AdamW": lambda w, h: optim.AdamW([w], lr=h(0.01), betas=(h(0.8), h(0.9)), weight_decay=h(0.1)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
@pytest.mark.parametrize("hyper_type", list(HYPER_TYPES))
@pytest.mark.parametrize("name", list(MAKERS))
def test_state_and_parameters_keep_the_parameters_dtype(name, hyper_type, dtype):
    w = cr.tensor(np.linspace(-1, 1, 6).astype(dtype), requires_grad=True)
    opt = MAKERS[name](w, HYPER_TYPES[hyper_type])
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        # a later lr set by a schedule, as the train command does, in yet another type
        opt.param_groups[0]["lr"] = np.float64(opt.param_groups[0]["lr"]) * 0.5
    assert w.dtype == dtype
    for key, value in opt.state[w].items():
        if key != "step":  # PyTorch's step count is a float32 scalar
            assert value.dtype == dtype, (key, value.dtype)


def test_same_steps_whatever_the_hyperparameter_types():
    results = []
    for h in HYPER_TYPES.values():
        w = cr.tensor(np.linspace(-1, 1, 6).astype(np.float32), requires_grad=True)
        opt = MAKERS["SGD"](w, h)
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        results.append(w.data.copy())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_sgd_positional_order_is_api_mds():
    # API.md: SGD(params, lr, momentum=0, weight_decay=0, nesterov=False); dampening and maximize keyword-only
    names = list(inspect.signature(optim.SGD).parameters.values())
    positional = [p.name for p in names if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keyword_only = [p.name for p in names if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert positional == ["params", "lr", "momentum", "weight_decay", "nesterov"]
    assert keyword_only == ["dampening", "maximize"]
    w = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    group = optim.SGD([w], 0.1, 0.9, 0.01, True).param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"], group["nesterov"], group["dampening"]) == (
        0.1, 0.9, 0.01, True, 0.0)
    with pytest.raises(TypeError):
        optim.SGD([w], 0.1, 0.9, 0.01, False, 0.5)  # a sixth positional (torch's nesterov slot) is refused
    assert optim.SGD([w]).defaults["lr"] == 1e-3


def test_bad_hyperparameter_types_are_named():
    w = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="SGD: lr must be a real number"):
        optim.SGD([w], lr="0.1")
    with pytest.raises(TypeError, match="Adam: lr must be a real number"):
        optim.Adam([w], lr=np.array([0.1, 0.2]))
    with pytest.raises(TypeError, match="betas must be a pair"):
        optim.Adam([w], betas=(0.9,))
