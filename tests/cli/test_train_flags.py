"""``python -m chainrule train --lr-schedule`` and ``--clip-grad-norm``: rates used, clipping, exact resume."""

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.cli import train
from chainrule.cli.training import loop
from chainrule.cli.training.checkpoint import _check_schema
from chainrule.cli.training.schedule import lr_at, plan_schedule
from chainrule.io import load, save

STEPS = math.ceil(1438 / 32)  # batches per epoch on the bundled digits at the default --batch-size


def run(capsys, *argv):
    code = train.main([*argv, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def metrics_lr(folder):
    lines = (folder / "metrics.csv").read_text().splitlines()
    return [float(line.split(",")[-1]) for line in lines[1:]]


# ---- the schedule functions, in closed form ----------------------------------------------------------------
def test_constant_and_step_rates():
    assert [lr_at([[0, 5, 0.3]], e, "constant") for e in range(5)] == [0.3] * 5
    # StepLR(step_size=ceil(7/3)=3, gamma=0.1)
    got = [lr_at([[0, 7, 1.0]], e, "step") for e in range(7)]
    np.testing.assert_allclose(got, [1, 1, 1, 0.1, 0.1, 0.1, 0.01], rtol=1e-12)
    # an appended segment steps down over its own epochs
    got = [lr_at([[0, 3, 1.0], [3, 6, 0.5]], e, "step") for e in range(3, 6)]
    np.testing.assert_allclose(got, [0.5, 0.05, 0.005], rtol=1e-12)


def test_onecycle_rates_follow_pytorchs_formula():
    sched, steps = [[0, 2, 1.0]], 5  # 10 steps: warm-up over steps 0..2 (end 0.3*10-1=2), anneal over 2..9
    rates = [lr_at(sched, e, "onecycle", k, steps) for e in range(2) for k in range(steps)]
    assert rates[0] == pytest.approx(1.0 / 25)
    assert rates[1] == pytest.approx(1 / 25 + (1 - 1 / 25) * (1 - math.cos(math.pi / 2)) / 2)
    assert rates[2] == pytest.approx(1.0)
    assert rates[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert rates[:3] == sorted(rates[:3]) and rates[2:] == sorted(rates[2:], reverse=True)


def test_plan_schedule_for_each_kind():
    kept = [[0, 3, 1.0]]
    for kind in ("constant", "step", "onecycle", "cosine"):
        assert plan_schedule(kept, 2, 3, 1.0, False, kind, 7) is kept  # same settings: exact resume
    # step size ceil(3/3) = 1: epoch 2 ran at 0.01, where the new segment starts
    assert plan_schedule(kept, 3, 6, 1.0, False, "step")[1] == [3, 6, pytest.approx(0.01)]
    assert plan_schedule(kept, 3, 6, 1.0, False, "constant")[1] == [3, 6, 1.0]
    assert plan_schedule(kept, 3, 6, 1.0, False, "onecycle", 7)[1] == [3, 6, 1.0]  # a new cycle at --lr
    assert plan_schedule(kept, 3, 6, 0.5, True, "step")[1] == [3, 6, 0.5]


# ---- clipping -------------------------------------------------------------------------------------------
def test_optimizer_step_bounds_the_global_gradient_norm():
    rng = np.random.default_rng(0)
    params = [cr.tensor(rng.normal(size=s), requires_grad=True) for s in ((3, 4), (4,), (2, 2))]
    loss = sum((100 * p * p).sum() for p in params)
    loss.backward()
    grads = [p.grad.data.copy() for p in params]
    before = [p.data.copy() for p in params]
    total = math.sqrt(sum((g ** 2).sum() for g in grads))
    assert total > 10
    loop.optimizer_step(optim.SGD(params, lr=1.0), params, max_norm=0.5)
    steps = [b - p.data for b, p in zip(before, params)]  # SGD with lr 1 moves by the clipped gradient
    assert math.sqrt(sum((s ** 2).sum() for s in steps)) == pytest.approx(0.5, rel=1e-5)
    for s, g in zip(steps, grads):  # same direction: every gradient scaled by one factor
        np.testing.assert_allclose(s, g * 0.5 / total, rtol=1e-5)
    # under the bound nothing changes; None clips nothing
    small = cr.tensor([0.3, 0.4], requires_grad=True)
    (small * 0.0 + small).sum().backward()
    loop.optimizer_step(optim.SGD([small], lr=1.0), [small], max_norm=10.0)
    np.testing.assert_allclose(small.data, [-0.7, -0.6], rtol=1e-6)
    big = cr.tensor([30.0, 40.0], requires_grad=True)
    (big * big).sum().backward()
    loop.optimizer_step(optim.SGD([big], lr=1.0), [big], max_norm=None)
    np.testing.assert_allclose(big.data, [-30.0, -40.0], rtol=1e-6)


def test_a_run_with_clip_grad_norm_clips_every_step(tmp_path, capsys, monkeypatch):
    seen = []
    real = loop.optimizer_step

    def record(opt, params, max_norm=None):
        real(opt, params, max_norm)
        seen.append((max_norm, math.sqrt(sum(float((p.grad.data.astype(np.float64) ** 2).sum()) for p in params))))

    monkeypatch.setattr(loop, "optimizer_step", record)
    code, out, _ = run(capsys, "--epochs", "1", "--clip-grad-norm", "0.25", "--out", str(tmp_path))
    assert code == 0 and "test accuracy:" in out and "gradient norm clipped to 0.25" in out
    assert len(seen) == STEPS and all(m == 0.25 and n <= 0.25 * (1 + 1e-5) for m, n in seen)
    _, meta = load(tmp_path / "model.safetensors", with_metadata=True)
    config = json.loads(meta["config"])
    assert config["clip_grad_norm"] == 0.25 and config["lr_schedule"] == "cosine"


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "x"])
def test_a_non_positive_clip_is_refused(value, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--clip-grad-norm", value])
    assert exc.value.code == 2
    assert f"argument --clip-grad-norm: expected a positive number, got '{value}'" in capsys.readouterr().err


# ---- runs ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["cosine", "constant", "onecycle", "step"])
def test_each_schedule_trains_and_records_the_rates_it_used(kind, tmp_path, capsys, monkeypatch):
    used = []
    real = loop.optimizer_step

    def record(opt, params, max_norm=None):
        used.append(opt.param_groups[0]["lr"])
        real(opt, params, max_norm)

    monkeypatch.setattr(loop, "optimizer_step", record)
    code, out, _ = run(capsys, "--epochs", "2", "--lr-schedule", kind, "--out", str(tmp_path))
    assert code == 0 and f"({kind})" in out
    acc = float(out.split("test accuracy: ")[1].split("%")[0])
    assert acc > 80
    lr = train.DEFAULT_LR["adam"]
    want = [lr_at([[0, 2, lr]], e, kind, k, STEPS) for e in range(2) for k in range(STEPS)]
    assert used == pytest.approx(want, rel=1e-12)
    expected = {"cosine": [lr, lr / 2], "constant": [lr, lr], "step": [lr, lr / 10],
                "onecycle": [lr / 25, want[STEPS]]}[kind]
    # each epoch's first step's rate: exact in the checkpoint, to the 6 digits metrics.csv writes
    ck = load(tmp_path / "model.safetensors")
    assert ck["metrics.lr"].tolist() == pytest.approx(expected, rel=1e-12)
    assert metrics_lr(tmp_path) == pytest.approx(expected, rel=1e-5)


@pytest.fixture
def interrupt_after(monkeypatch):
    real = loop.save_checkpoint

    def arm(stop_epoch):
        def save_then_interrupt(path, model, opt, epoch, *args):
            real(path, model, opt, epoch, *args)
            if epoch == stop_epoch:
                monkeypatch.setattr(loop, "save_checkpoint", real)
                raise KeyboardInterrupt

        monkeypatch.setattr(loop, "save_checkpoint", save_then_interrupt)

    return arm


def same_run(a, b):
    a, b = load(a / "model.safetensors"), load(b / "model.safetensors")
    assert sorted(a) == sorted(b)
    for key in a:
        if key != "metrics.seconds":
            assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("kind", ["cosine", "constant", "onecycle", "step"])
def test_resume_with_each_schedule_reproduces_an_uninterrupted_run(kind, tmp_path, capsys, interrupt_after):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    common = ("--epochs", "3", "--lr-schedule", kind, "--clip-grad-norm", "1", "--batch-size", "128")
    assert run(capsys, *common, "--out", str(whole))[0] == 0
    interrupt_after(1)
    assert run(capsys, *common, "--out", str(parts))[0] == 130
    code, out, _ = run(capsys, "--resume", "--out", str(parts))  # the schedule and clipping come from the file
    assert code == 0 and f"({kind}, gradient norm clipped to 1)" in out
    same_run(whole, parts)


def test_resume_refuses_a_new_schedule_or_clip(tmp_path, capsys):
    assert run(capsys, "--epochs", "1", "--batch-size", "512", "--out", str(tmp_path))[0] == 0
    code, _, err = run(capsys, "--resume", "--epochs", "2", "--lr-schedule", "step", "--out", str(tmp_path))
    assert code == 2 and "was trained with --lr-schedule cosine, not step" in err
    code, _, err = run(capsys, "--resume", "--epochs", "2", "--clip-grad-norm", "1", "--out", str(tmp_path))
    assert code == 2 and "was trained without --clip-grad-norm, not 1.0" in err
    # the checkpoint's own values are accepted
    code, _, _ = run(capsys, "--resume", "--epochs", "2", "--lr-schedule", "cosine", "--out", str(tmp_path))
    assert code == 0


def test_a_checkpoint_from_before_the_options_resumes_as_cosine_unclipped(tmp_path, capsys, interrupt_after):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    common = ("--epochs", "2", "--batch-size", "256")
    assert run(capsys, *common, "--out", str(whole))[0] == 0
    interrupt_after(1)
    assert run(capsys, *common, "--out", str(parts))[0] == 130
    path = parts / "model.safetensors"
    tensors, meta = load(path, with_metadata=True)
    config = json.loads(meta["config"])
    del config["lr_schedule"], config["clip_grad_norm"]
    save(tensors, path, metadata={**meta, "config": json.dumps(config)})
    code, out, _ = run(capsys, "--resume", "--out", str(parts))
    assert code == 0 and "(cosine)" in out
    same_run(whole, parts)


def test_the_schema_checks_the_new_fields():
    good = {"model": "mlp", "optimizer": "adam", "data": "digits", "seed": 0, "batch_size": 32, "lr": 0.002,
            "epochs": 2, "schedule": [[0, 2, 0.002]], "lr_schedule": "onecycle", "clip_grad_norm": 1.5}
    assert _check_schema({"epoch": np.array(0)}, good) is None
    assert _check_schema({"epoch": np.array(0)}, {**good, "clip_grad_norm": None}) is None
    for key, bad in (("lr_schedule", "linear"), ("lr_schedule", 3), ("clip_grad_norm", 0),
                     ("clip_grad_norm", -1.0), ("clip_grad_norm", float("inf")), ("clip_grad_norm", "1")):
        assert f"field config.{key} must be" in _check_schema({"epoch": np.array(0)}, {**good, key: bad})
