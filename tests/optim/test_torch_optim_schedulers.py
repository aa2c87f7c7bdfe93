"""RMSprop, Adagrad, the lr schedulers and gradient clipping against PyTorch, where it is installed."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import optim  # noqa: E402
from chainrule.nn import utils  # noqa: E402
from chainrule.optim import lr_scheduler as S  # noqa: E402

TS = torch.optim.lr_scheduler


def twenty_steps(ours_cls, theirs_cls, dtype, **kw):
    g = np.random.default_rng(0)
    theta = g.normal(size=(4, 3)).astype(dtype)
    grads = [g.normal(size=(4, 3)).astype(dtype) for _ in range(20)]
    p = cr.tensor(theta.copy(), requires_grad=True)
    tp = torch.nn.Parameter(torch.tensor(theta.copy()))
    opt, topt = ours_cls([p], **kw), theirs_cls([tp], **kw)
    for gr in grads:
        p.grad = cr.tensor(gr)
        tp.grad = torch.tensor(gr)
        opt.step()
        topt.step()
    return p, tp, opt, topt


RMS = [dict(), dict(lr=0.05, alpha=0.9, eps=1e-6), dict(momentum=0.9), dict(centered=True),
       dict(centered=True, momentum=0.5, weight_decay=0.1), dict(alpha=0.3, centered=True, maximize=True)]
ADA = [dict(), dict(lr=0.1, lr_decay=0.05), dict(weight_decay=0.2, initial_accumulator_value=0.5, eps=1e-6)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ours,theirs,kw", [(optim.RMSprop, torch.optim.RMSprop, kw) for kw in RMS]
                         + [(optim.Adagrad, torch.optim.Adagrad, kw) for kw in ADA])
def test_twenty_steps_match_torch(ours, theirs, kw, dtype):
    p, tp, opt, topt = twenty_steps(ours, theirs, dtype, **kw)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.data, tp.detach().numpy(), **tol)
    assert p.dtype == dtype
    ours_sd, theirs_sd = opt.state_dict(), topt.state_dict()
    assert set(ours_sd["state"][0]) == set(theirs_sd["state"][0])
    for k, v in theirs_sd["state"][0].items():
        np.testing.assert_allclose(ours_sd["state"][0][k], v.numpy(), **tol)
        assert np.asarray(ours_sd["state"][0][k]).dtype == v.numpy().dtype
    assert set(ours_sd["param_groups"][0]) <= set(theirs_sd["param_groups"][0])
    # PyTorch's own state dict loads into ours, and the next step agrees
    p2 = cr.tensor(p.data.copy(), requires_grad=True)
    opt2 = ours([p2], **kw)
    opt2.load_state_dict(theirs_sd)
    p2.grad, tp.grad = cr.tensor(np.ones((4, 3), dtype)), torch.ones(4, 3, dtype=tp.dtype)
    opt2.step()
    topt.step()
    np.testing.assert_allclose(p2.data, tp.detach().numpy(), **tol)


SCHEDULES = [
    (lambda o: S.StepLR(o, step_size=7, gamma=0.5), lambda o: TS.StepLR(o, step_size=7, gamma=0.5)),
    (lambda o: S.MultiStepLR(o, [5, 20, 20, 33], 0.3), lambda o: TS.MultiStepLR(o, [5, 20, 20, 33], 0.3)),
    (lambda o: S.ExponentialLR(o, 0.93), lambda o: TS.ExponentialLR(o, 0.93)),
    (lambda o: S.CosineAnnealingLR(o, T_max=12, eta_min=0.01), lambda o: TS.CosineAnnealingLR(o, 12, 0.01)),
    (lambda o: S.LambdaLR(o, lambda e: 0.97**e), lambda o: TS.LambdaLR(o, lambda e: 0.97**e)),
    (lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=50),
     lambda o: TS.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=50)),
    (lambda o: S.OneCycleLR(o, 0.3, epochs=5, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
                            three_phase=True, div_factor=10, final_div_factor=100),
     lambda o: TS.OneCycleLR(o, 0.3, epochs=5, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
                             three_phase=True, div_factor=10, final_div_factor=100)),
]


def _pair(cls, tcls, **kw):
    ps = [cr.tensor(np.zeros(2), requires_grad=True) for _ in range(2)]
    tps = [torch.nn.Parameter(torch.zeros(2)) for _ in range(2)]
    return (cls([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}], **kw),
            tcls([{"params": [tps[0]]}, {"params": [tps[1]], "lr": 0.05}], **kw))


@pytest.mark.parametrize("i", range(len(SCHEDULES)))
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_schedules_equal_torch_over_50_steps(i, opt):
    cls, tcls, kw = ((optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)) if opt == "sgd"
                     else (optim.Adam, torch.optim.Adam, dict(lr=0.1)))
    o, to = _pair(cls, tcls, **kw)
    ours, theirs = SCHEDULES[i][0](o), SCHEDULES[i][1](to)
    for _ in range(49):
        assert ours.get_last_lr() == theirs.get_last_lr()  # exactly: the same float operations in the same order
        for k in ("momentum", "betas"):
            if k in to.param_groups[0]:
                assert [g[k] for g in o.param_groups] == [tuple(g[k]) if k == "betas" else g[k]
                                                          for g in to.param_groups]
        o.step()
        to.step()
        ours.step()
        theirs.step()
    assert ours.get_last_lr() == theirs.get_last_lr()
    theirs_sd = theirs.state_dict()
    ours_sd = ours.state_dict()
    for k in ("base_lrs", "last_epoch", "_step_count", "_last_lr"):
        assert ours_sd[k] == theirs_sd[k]


def test_reduce_on_plateau_equals_torch():
    o, to = _pair(optim.SGD, torch.optim.SGD, lr=1.0)
    kw = dict(mode="max", factor=0.5, patience=3, threshold=0.01, cooldown=2, min_lr=[0.01, 0.02])
    ours, theirs = S.ReduceLROnPlateau(o, **kw), TS.ReduceLROnPlateau(to, **kw)
    metrics = np.random.default_rng(1).normal(size=50).cumsum() * 0.05
    for m in metrics:
        ours.step(m)
        theirs.step(float(m))
        assert ours.get_last_lr() == theirs.get_last_lr()
    theirs_sd = theirs.state_dict()
    assert set(ours.state_dict()) == set(theirs_sd)
    for k, v in theirs_sd.items():
        assert ours.state_dict()[k] == v


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_equals_torch(norm_type, dtype):
    g = np.random.default_rng(2)
    grads = [g.normal(size=s).astype(dtype) * 3 for s in [(3, 4), (5,), (2, 2, 2)]]
    ps, tps = [], []
    for gr in grads:
        p = cr.tensor(np.zeros_like(gr), requires_grad=True)
        p.grad = cr.tensor(gr.copy())
        tp = torch.nn.Parameter(torch.zeros(gr.shape, dtype=torch.from_numpy(gr).dtype))
        tp.grad = torch.tensor(gr.copy())
        ps.append(p)
        tps.append(tp)
    total = utils.clip_grad_norm_(ps, 2.0, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 2.0, norm_type)
    tol = dict(rtol=1e-12) if dtype == np.float64 else dict(rtol=1e-5)
    np.testing.assert_allclose(total.data, ttotal.numpy(), **tol)
    assert total.dtype == dtype
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), **tol)
    utils.clip_grad_value_(ps, 0.1)
    torch.nn.utils.clip_grad_value_(tps, 0.1)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), **tol)
        assert np.abs(p.grad.data).max() <= 0.1
    vec = utils.parameters_to_vector(ps)
    np.testing.assert_array_equal(vec.data, torch.nn.utils.parameters_to_vector(tps).detach().numpy())
