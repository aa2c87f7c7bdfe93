"""The train command's onecycle and step schedules against PyTorch's OneCycleLR and StepLR."""

import pytest

from chainrule.cli.training.schedule import lr_at

torch = pytest.importorskip("torch")


def _rates(make, epochs, steps):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    out = []
    for _ in range(epochs * steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("epochs,steps", [(1, 1), (2, 5), (3, 7), (10, 45)])
def test_onecycle_matches_pytorch(epochs, steps):
    want = _rates(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, epochs=epochs,
                                                                steps_per_epoch=steps), epochs, steps)
    got = [lr_at([[0, epochs, 0.1]], e, "onecycle", k, steps) for e in range(epochs) for k in range(steps)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("epochs", [1, 2, 3, 8, 20])
def test_step_matches_pytorch(epochs):
    want = _rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=-(-epochs // 3), gamma=0.1), epochs, 1)
    got = [lr_at([[0, epochs, 0.1]], e, "step") for e in range(epochs)]
    assert got == pytest.approx(want, rel=1e-12)
