"""Learning-rate schedulers against their closed forms over 50 steps; state dicts; ReduceLROnPlateau's rules."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler as S


def make_opt(lr=0.1, cls=optim.SGD, **kw):
    return cls([cr.tensor(np.zeros(2), requires_grad=True)], lr=lr, **kw)


def lrs(sched, n=50):
    out = [sched.get_last_lr()[0]]
    for _ in range(n - 1):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    assert out[-1] == sched.optimizer.param_groups[0]["lr"]
    return np.array(out)


E = np.arange(50)


def onecycle_ref(e, max_lr=1.0, total=50, pct=0.3, div=25.0, final=1e4):
    lo, peak, end = max_lr / div, max_lr, max_lr / div / final
    up = pct * total - 1
    cos = lambda a, b, t: b + (a - b) / 2 * (math.cos(math.pi * t) + 1)  # noqa: E731
    return cos(lo, peak, e / up) if e <= up else cos(peak, end, (e - up) / (total - 1 - up))


CASES = {
    "step": (lambda o: S.StepLR(o, step_size=7, gamma=0.5), 0.1 * 0.5 ** (E // 7)),
    "multistep": (lambda o: S.MultiStepLR(o, milestones=[5, 20, 20, 33], gamma=0.3),
                  0.1 * 0.3 ** ((E >= 5) + 2 * (E >= 20) + (E >= 33))),
    "exponential": (lambda o: S.ExponentialLR(o, gamma=0.93), 0.1 * 0.93**E),
    "cosine": (lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.01),
               0.01 + (0.1 - 0.01) * (1 + np.cos(np.pi * E / 20)) / 2),
    "lambda": (lambda o: S.LambdaLR(o, lambda e: 1 / (1 + e)), 0.1 / (1 + E)),
    "onecycle": (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=50), np.array([onecycle_ref(e) for e in E])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_closed_form(name):
    make, want = CASES[name]
    np.testing.assert_allclose(lrs(make(make_opt(momentum=0.9))), want, rtol=1e-12)


def test_onecycle_cycles_momentum_and_betas():
    opt = make_opt(momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=50)
    assert opt.param_groups[0]["momentum"] == 0.95  # max_momentum while the lr is lowest
    for _ in range(14):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.85)  # base_momentum at the peak (step 14)
    adam = make_opt(cls=optim.Adam)
    S.OneCycleLR(adam, max_lr=0.01, epochs=5, steps_per_epoch=10)
    assert adam.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(make_opt(), max_lr=1.0)
    sched = S.OneCycleLR(make_opt(momentum=0.9), max_lr=1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="tried to step 3 times"):
        sched.step()


def test_state_dict_round_trip():
    opt = make_opt()
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    lrs(sched, 5)
    sd = sched.state_dict()
    assert {"step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_last_lr"} <= set(sd)
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    opt2 = make_opt()
    opt2.load_state_dict(opt.state_dict())
    sched2 = S.StepLR(opt2, step_size=100, gamma=0.9)
    sched2.load_state_dict(sd)
    np.testing.assert_allclose(lrs(sched2, 10), lrs(sched, 10))
    lam = S.LambdaLR(make_opt(), lambda e: 0.5)
    assert lam.state_dict()["lr_lambdas"] == [None]  # functions are not saved, as in PyTorch

    class Scale:
        def __init__(self):
            self.k = 0.5

        def __call__(self, epoch):
            return self.k

    fn = Scale()
    lam = S.LambdaLR(make_opt(), fn)
    fn.k = 0.25
    saved = lam.state_dict()
    assert saved["lr_lambdas"] == [{"k": 0.25}]
    fn2 = Scale()
    S.LambdaLR(make_opt(), fn2).load_state_dict(saved)
    assert fn2.k == 0.25


def test_reduce_on_plateau():
    opt = make_opt(lr=1.0)
    sched = S.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=0.2)
    seen = []
    for loss in [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]:
        sched.step(loss)
        seen.append(opt.param_groups[0]["lr"])
    # epochs 3-5 bad -> halve at 5; 6 is cooldown; 7, 8 bad; 9 improves; 10-12 bad -> halve at 12; 13 cooldown;
    # 14-16 bad -> halve, but not below min_lr (PyTorch gives this same list)
    assert seen == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    sd = sched.state_dict()
    assert sd["best"] == 3 and sd["mode"] == "min" and "optimizer" not in sd
    opt = make_opt(lr=1.0)
    sched = S.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=0.1, threshold_mode="abs")
    for acc in [0.5, 0.55, 0.7]:
        sched.step(acc)
    assert sched.get_last_lr() == [0.1]  # 0.55 is not 0.1 better than 0.5; 0.7 is
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        S.ReduceLROnPlateau(opt, factor=1.0)


def test_errors():
    with pytest.raises(TypeError, match="StepLR: optimizer must be"):
        S.StepLR("sgd", 3)
    with pytest.raises(ValueError, match="LambdaLR: expected 1 lr_lambdas"):
        S.LambdaLR(make_opt(), [lambda e: 1, lambda e: 2])
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(make_opt(), 3, last_epoch=5)
