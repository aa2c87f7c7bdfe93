"""``python -m chainrule train`` through ``main(argv)``: outputs, exact resume, determinism, failures, IDX data."""

import gzip
import io
import json
import os
import re
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import train
from chainrule.cli.training import loop, metrics
from chainrule.cli.training.data import _labels_text
from chainrule.io import load


def run(capsys, *argv):
    code = train.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def checkpoint(path):
    return load(path / "model.safetensors")


def same_run(a, b):
    """Two checkpoints hold the same model, optimiser state, epoch and metrics (wall times aside)."""
    assert sorted(a) == sorted(b)
    for key in a:
        if key != "metrics.seconds":
            assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key


def test_one_epoch_writes_metrics_plot_and_checkpoint(tmp_path, capsys):
    code, out, err = run(capsys, "--epochs", "1", "--out", str(tmp_path))
    assert code == 0
    assert re.search(r"epoch +1/1 +train loss \d\.\d{4} +test loss \d\.\d{4} +test acc +\d+\.\d\d% +\d+\.\d\ds", out)
    assert re.search(r"^test accuracy: \d+\.\d\d% \(\d+/359\)$", out, re.MULTILINE)
    assert "%|" not in err and "\r" not in err  # stderr is not a terminal here: no progress-bar fragments
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,test_loss,test_acc,seconds,lr" and len(lines) == 2
    assert float(lines[1].split(",")[-1]) == train.DEFAULT_LR["adam"]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ck = checkpoint(tmp_path)
    assert int(ck["epoch"]) == 1
    assert ck["model.0.weight"].shape == (256, 64) and ck["model.0.weight"].dtype == np.float32
    assert "optimizer.state.0.exp_avg" in ck and "optimizer.param_groups.0.lr" in ck


@pytest.fixture
def interrupt_after(monkeypatch):
    """``interrupt_after(e)``: the next run raises KeyboardInterrupt right after saving epoch e's checkpoint."""
    real = loop.save_checkpoint

    def arm(stop_epoch):
        def save_then_interrupt(path, model, opt, epoch, *args):
            real(path, model, opt, epoch, *args)
            if epoch == stop_epoch:
                monkeypatch.setattr(loop, "save_checkpoint", real)  # once
                raise KeyboardInterrupt

        monkeypatch.setattr(loop, "save_checkpoint", save_then_interrupt)

    return arm


def test_resume_continues_exactly_and_same_seed_repeats(tmp_path, capsys, interrupt_after):
    a, b, c, d = tmp_path / "a", tmp_path / "b", tmp_path / "c", tmp_path / "d"
    common = ("--no-progress", "--seed", "3", "--batch-size", "64")
    assert run(capsys, "--epochs", "3", "--out", str(a), *common)[0] == 0
    for out, again in ((b, ("--epochs", "3")), (d, ())):  # resumed with the same --epochs, or none
        interrupt_after(1)
        assert train.main(["--epochs", "3", "--out", str(out), *common]) == 130
        capsys.readouterr()
        code, text, _ = run(capsys, "--resume", *again, "--out", str(out), "--no-progress")
        assert code == 0 and "epochs 2..3" in text and "note:" not in text
        same_run(checkpoint(a), checkpoint(out))
    assert run(capsys, "--epochs", "3", "--out", str(c), *common)[0] == 0
    same_run(checkpoint(a), checkpoint(c))
    def rows(path):  # every column but the wall time
        return [r.split(",")[:4] + r.split(",")[5:] for r in (path / "metrics.csv").read_text().splitlines()]

    assert rows(a) == rows(b) == rows(c) == rows(d)
    # already at the requested epoch: nothing to do, still a success
    code, out, _ = run(capsys, "--resume", "--epochs", "3", "--out", str(b), "--no-progress")
    assert code == 0 and "nothing to train" in out


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal_with_the_running_loss(tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, "--epochs", "1", "--out", str(tmp_path / "a"))
    assert code == 0 and "%|" not in err and "\r" not in err  # a log file gets no bar fragments
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(loop, "PROGRESS_INTERVAL", 0)  # redraw at every step, however fast the epoch
    assert train.main(["--epochs", "1", "--out", str(tmp_path / "b")]) == 0
    shown = terminal.getvalue()
    assert "epoch 1/1" in shown and "loss=" in shown and "\r" in shown
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert train.main(["--epochs", "1", "--no-progress", "--out", str(tmp_path / "c")]) == 0
    assert "%|" not in terminal.getvalue()


@pytest.fixture
def plots(monkeypatch):
    """Record how many epochs each curves.png written shows (and still write it)."""
    shown = []
    real = metrics.plot_curves

    def spy(path, history, title):
        shown.append(len(history["train_loss"]))
        return real(path, history, title)

    monkeypatch.setattr(metrics, "plot_curves", spy)
    return shown


def test_resume_with_more_epochs_continues_the_schedule_smoothly(tmp_path, capsys, interrupt_after):
    lr0 = train.DEFAULT_LR["adam"]
    a, b = tmp_path / "a", tmp_path / "b"
    common = ("--no-progress", "--batch-size", "128")
    for out in (a, b):
        assert run(capsys, "--epochs", "2", "--out", str(out), *common)[0] == 0
    code, out, _ = run(capsys, "--resume", "--epochs", "4", "--out", str(a), *common)
    assert code == 0 and "--epochs changed from 2 to 4: the learning rate starts at 0.001 and anneals to 0" in out
    # epochs 1-2 ran cos over 2 epochs (lr0, lr0/2); 3-4 anneal from the lr0/2 reached over 2 more (lr0/2, lr0/4)
    ck = checkpoint(a)
    np.testing.assert_allclose(ck["metrics.lr"], [lr0, lr0 / 2, lr0 / 2, lr0 / 4], rtol=1e-12)
    assert float(ck["optimizer.param_groups.0.lr"]) == pytest.approx(lr0 / 4, rel=1e-12)
    # the new schedule is in the checkpoint: stopped after epoch 3 and resumed (no --epochs), b ends where a did
    interrupt_after(3)
    assert train.main(["--resume", "--epochs", "4", "--out", str(b), *common]) == 130
    capsys.readouterr()
    code, out, _ = run(capsys, "--resume", "--out", str(b), *common)
    assert code == 0 and "epochs 4..4" in out and "note:" not in out
    same_run(checkpoint(a), checkpoint(b))


def test_resume_with_a_new_lr_restarts_the_annealing_from_it(tmp_path, capsys):
    common = ("--no-progress", "--batch-size", "128", "--out", str(tmp_path))
    assert run(capsys, "--epochs", "2", *common)[0] == 0
    code, out, _ = run(capsys, "--resume", "--epochs", "4", "--lr", "0.01", *common)
    assert code == 0 and "--lr changed from 0.002 to 0.01" in out
    lr0 = train.DEFAULT_LR["adam"]
    np.testing.assert_allclose(checkpoint(tmp_path)["metrics.lr"], [lr0, lr0 / 2, 0.01, 0.005], rtol=1e-12)
    # repeating the same command line changes nothing more: the checkpoint's --lr is now 0.01
    code, out, _ = run(capsys, "--resume", "--epochs", "4", "--lr", "0.01", *common)
    assert code == 0 and "nothing to train" in out and "note:" not in out


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint_and_plot(tmp_path, capsys, optimizer, plots):
    assert run(capsys, "--epochs", "1", "--optimizer", optimizer, "--out", str(tmp_path), "--no-progress")[0] == 0
    before = (tmp_path / "model.safetensors").read_bytes()
    (tmp_path / "curves.png").write_bytes(b"stale")
    plots.clear()
    with np.errstate(all="ignore"):
        code, _, err = run(capsys, "--resume", "--epochs", "3", "--lr", "1e30", "--out", str(tmp_path),
                             "--no-progress")
    assert code == 1
    assert re.search(r"stopped: the (loss became (nan|inf)|weights became non-finite).*epoch 2", err)
    assert "last good checkpoint (epoch 1)" in err
    assert (tmp_path / "model.safetensors").read_bytes() == before
    # the plot matches the checkpoint and metrics.csv: one epoch
    assert plots == [1] and (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 2


def test_a_fresh_run_that_diverges_at_once_leaves_an_earlier_runs_files_alone(tmp_path, capsys, plots):
    assert run(capsys, "--epochs", "1", "--out", str(tmp_path), "--no-progress")[0] == 0
    files = {name: (tmp_path / name).read_bytes() for name in ("model.safetensors", "metrics.csv", "curves.png")}
    with np.errstate(all="ignore"):
        code, _, err = run(capsys, "--epochs", "2", "--lr", "1e30", "--out", str(tmp_path), "--no-progress")
    assert code == 1 and "from an earlier run and untouched" in err
    assert files == {name: (tmp_path / name).read_bytes() for name in files}


def test_an_interrupted_run_leaves_a_plot_of_its_checkpoint(tmp_path, capsys, interrupt_after, plots):
    interrupt_after(2)
    code, _, err = run(capsys, "--epochs", "5", "--out", str(tmp_path), "--no-progress")
    assert plots[0] == 1 and plots[-1] == 2 and int(checkpoint(tmp_path)["epoch"]) == 2
    # Ctrl-C: one line saying where it stopped and what is kept, no traceback; exit code 130 (128 + SIGINT)
    assert code == 130 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "interrupted after epoch 2/5" in err and "last finished epoch (2)" in err and "--resume" in err
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 3  # metrics.csv agrees too


def test_ctrl_c_during_an_epoch_keeps_the_one_before(tmp_path, capsys, monkeypatch):
    real, steps = loop._progress, []

    def interrupt_in_epoch_3(loader, desc, enabled):
        def batches():
            for k, batch in enumerate(loader):
                steps.append(desc)
                if desc.startswith("epoch 3/") and k == 5:
                    raise KeyboardInterrupt
                yield batch

        return None, batches()

    monkeypatch.setattr(loop, "_progress", interrupt_in_epoch_3)
    code, out, err = run(capsys, "--epochs", "4", "--batch-size", "256", "--out", str(tmp_path))
    assert code == 130 and err.strip().splitlines() == [
        f"python -m chainrule train: interrupted during epoch 3/4; the checkpoint of the last finished epoch (2) "
        f"is kept in {tmp_path / 'model.safetensors'} (curves.png shows it); continue with --resume"
    ]
    assert int(checkpoint(tmp_path)["epoch"]) == 2 and "test accuracy" not in out
    monkeypatch.setattr(loop, "_progress", real)
    code, out, _ = run(capsys, "--resume", "--out", str(tmp_path), "--no-progress")
    assert code == 0 and "epochs 3..4" in out
    # interrupted before any epoch finished: nothing written, and an earlier run's files are untouched
    monkeypatch.setattr(train, "load_data", lambda spec: (_ for _ in ()).throw(KeyboardInterrupt))
    before = (tmp_path / "model.safetensors").read_bytes()
    code, _, err = run(capsys, "--out", str(tmp_path))
    assert code == 130 and "interrupted before training started; nothing was written" in err
    assert (tmp_path / "model.safetensors").read_bytes() == before


def test_bad_arguments_get_argparse_messages(tmp_path, capsys):
    for argv, message in ((["--epochs", "0"], "argument --epochs: expected a positive integer"),
                          (["--lr", "-1"], "argument --lr: expected a positive number"),
                          (["--model", "rnn"], "argument --model: invalid choice: 'rnn'"),
                          (["--batch-size", "x"], "argument --batch-size")):
        with pytest.raises(SystemExit) as exc:
            train.main(argv)
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
    code, _, err = run(capsys, "--resume", "--out", str(tmp_path / "none"))
    assert code == 2 and "no checkpoint" in err
    code, _, err = run(capsys, "--data", str(tmp_path / "missing"), "--out", str(tmp_path))
    assert code == 2 and "neither 'digits' nor a folder" in err


def test_an_out_that_cannot_be_a_folder_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    cases = [(tmp_path / "f", "is a file, not a folder"), (tmp_path / "f" / "x", "is a file, not a folder")]
    if os.path.isdir("/proc") and not os.access("/proc", os.W_OK):  # Linux: no folder can be made there
        cases.append(("/proc/chainrule-test", "cannot create the folder /proc/chainrule-test"))
    for out, message in cases:
        for resume in ((), ("--resume",)):
            code, _, err = run(capsys, "--epochs", "1", "--out", str(out), *resume)
            assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (out, resume, err)
            assert "Traceback" not in err
    assert (tmp_path / "f").read_text() == ""


def test_a_checkpoint_that_cannot_be_written_stops_with_one_line(tmp_path, capsys, monkeypatch):
    import safetensors.numpy
    from safetensors import SafetensorError

    real, calls = safetensors.numpy.save_file, []

    def full_disk_at_the_second_checkpoint(*args, **kw):  # cr.save writes through the library
        calls.append(args)
        if len(calls) == 2:
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real(*args, **kw)

    monkeypatch.setattr(safetensors.numpy, "save_file", full_disk_at_the_second_checkpoint)
    code, _, err = run(capsys, "--epochs", "3", "--batch-size", "256", "--out", str(tmp_path), "--no-progress")
    monkeypatch.undo()
    ckpt = tmp_path / "model.safetensors"
    assert code == 1 and err.strip().splitlines() == [
        f"python -m chainrule train: error: cannot save {ckpt}: No space left on device; the last good "
        f"checkpoint (epoch 1) is kept in {ckpt} (curves.png shows it)"
    ]
    assert int(checkpoint(tmp_path)["epoch"]) == 1 and len((tmp_path / "metrics.csv").read_text().splitlines()) == 2


def test_resume_refuses_a_different_model(tmp_path, capsys):
    assert run(capsys, "--epochs", "1", "--out", str(tmp_path), "--no-progress")[0] == 0
    code, _, err = run(capsys, "--resume", "--model", "cnn", "--epochs", "2", "--out", str(tmp_path))
    assert code == 2 and "--model mlp, not cnn" in err


def test_resume_refuses_a_new_seed_or_batch_size_since_it_continues_exactly(tmp_path, capsys):
    common = ("--epochs", "2", "--out", str(tmp_path), "--no-progress")
    assert run(capsys, "--epochs", "1", "--seed", "3", "--batch-size", "128", "--out", str(tmp_path))[0] == 0
    for flag, value, message in (("--seed", "4", "--seed 3, not 4"),
                                 ("--batch-size", "64", "--batch-size 128, not 64")):
        code, _, err = run(capsys, "--resume", flag, value, *common)
        assert code == 2 and message in err and "continues exactly" in err and int(checkpoint(tmp_path)["epoch"]) == 1
    code, out, _ = run(capsys, "--resume", "--seed", "3", "--batch-size", "128", *common)  # the same values: fine
    assert code == 0 and "epochs 2..2" in out
    assert "fixed on --resume" in train.build_parser().format_help()


def test_nothing_left_to_train_says_so_without_an_empty_epoch_range(tmp_path, capsys):
    assert run(capsys, "--epochs", "2", "--batch-size", "256", "--out", str(tmp_path), "--no-progress")[0] == 0
    for epochs in ("2", "1"):
        code, out, _ = run(capsys, "--resume", "--epochs", epochs, "--out", str(tmp_path), "--no-progress")
        assert code == 0 and "2 epochs done" in out and "epochs 3..2" not in out and "epochs 3..1" not in out
        assert "the checkpoint already ran 2 epochs; pass --epochs 3 or more" in out


def test_a_huge_lr_stops_cleanly_without_numpy_warnings(tmp_path, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="warn"):
            code, _, err = run(capsys, "--epochs", "2", "--lr", "1e30", "--optimizer", "sgd", "--out", str(tmp_path),
                               "--no-progress")
    assert code == 1 and "stopped:" in err and "RuntimeWarning" not in err
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


def _write_idx(path, array, gz):
    codes = {np.uint8: 0x08}
    header = struct.pack(">HBB", 0, codes[array.dtype.type], array.ndim) + struct.pack(f">{array.ndim}I",
                                                                                           *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def test_mnist_idx_folder(tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for split, n, gz in (("train", 60, True), ("t10k", 20, False)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 12, 12)) * 60).astype(np.uint8)
        images[np.arange(n), labels, :] = 255  # a learnable stripe per class
        _write_idx(folder / f"{split}-images-idx3-ubyte", images, gz)
        _write_idx(folder / f"{split}-labels-idx1-ubyte", labels, gz)
    out_dir = tmp_path / "out"
    code, out, _ = run(capsys, "--data", str(folder), "--model", "cnn", "--epochs", "2", "--batch-size", "16",
                       "--out", str(out_dir), "--no-progress")
    assert code == 0 and "60 train / 20 test samples" in out
    assert checkpoint(out_dir)["model.0.weight"].shape == (32, 1, 3, 3)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    code, _, err = run(capsys, "--data", str(folder), "--out", str(out_dir))
    assert code == 2 and "t10k-labels-idx1-ubyte" in err


def _mnist_folder(folder, train_labels, test_labels, side=8):
    rng = np.random.default_rng(0)
    folder.mkdir()
    for split, labels in (("train", train_labels), ("t10k", test_labels)):
        labels = np.asarray(labels, dtype=np.uint8)
        images = (rng.random((len(labels), side, side)) * 60).astype(np.uint8)
        _write_idx(folder / f"{split}-images-idx3-ubyte", images, False)
        _write_idx(folder / f"{split}-labels-idx1-ubyte", labels, False)
    return folder


def test_resume_finds_the_data_folder_from_any_working_directory(tmp_path, capsys, monkeypatch):
    _mnist_folder(tmp_path / "mn", np.arange(40) % 10, np.arange(10))
    out = tmp_path / "out"
    common = ("--batch-size", "16", "--no-progress", "--out", str(out))
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "--data", "mn/", "--epochs", "1", *common)[0] == 0
    saved = json.loads(load(out / "model.safetensors", with_metadata=True)[1]["config"])["data"]
    assert saved == str((tmp_path / "mn").resolve())  # absolute, resolved
    # the same folder written another way is the same folder; no --data at all works from elsewhere
    for epochs, data in (("2", ("--data", "mn")), ("3", ("--data", str(tmp_path / "mn"))), ("4", ())):
        monkeypatch.chdir(tmp_path if data else out)
        code, text, err = run(capsys, "--resume", "--epochs", epochs, *data, *common)
        assert code == 0 and f"epochs {epochs}..{epochs}" in text, err
    (tmp_path / "other").mkdir()
    code, _, err = run(capsys, "--resume", "--epochs", "5", "--data", str(tmp_path / "other"), *common)
    assert code == 2 and f"was trained with --data {saved}, not" in err


def test_labels_that_leave_most_classes_empty_are_refused(tmp_path, capsys):
    folder = _mnist_folder(tmp_path / "sparse", [0, 1, 200] * 10, [0, 1, 200])
    code, _, err = run(capsys, "--data", str(folder), "--epochs", "1", "--out", str(tmp_path / "a"))
    assert code == 2 and "the labels found are 0, 1, 200" in err and "201 classes" in err
    assert not (tmp_path / "a" / "model.safetensors").exists()
    # a few classes without a training example: trained, with a note naming them
    folder = _mnist_folder(tmp_path / "gaps", [0, 1, 2, 4, 5] * 8, [0, 1, 2, 3, 5])
    code, _, err = run(capsys, "--data", str(folder), "--epochs", "1", "--out", str(tmp_path / "b"), "--no-progress")
    assert code == 0 and "1 of the 6 classes have no training example: 3" in err
    assert checkpoint(tmp_path / "b")["model.4.bias"].shape == (6,)
    assert _labels_text(range(200)) == "0, 1, 2, 3, 4, 5, ..., 197, 198, 199 (200 labels)"


def test_dispatcher_registers_train(tmp_path, capsys):
    from chainrule.cli import main

    assert main(["train", "--epochs", "1", "--no-progress", "--out", str(tmp_path)]) == 0
    assert "test accuracy" in capsys.readouterr().out


def _final_accuracy(out):
    return float(re.search(r"^test accuracy: (\d+\.\d+)%", out, re.MULTILINE).group(1)) / 100


def test_default_mlp_reaches_97_percent_on_digits(tmp_path, capsys):
    code, out, _ = run(capsys, "--out", str(tmp_path), "--no-progress")
    assert code == 0 and _final_accuracy(out) >= 0.97


def test_default_cnn_reaches_98_percent_on_digits(tmp_path, capsys):
    code, out, _ = run(capsys, "--model", "cnn", "--out", str(tmp_path), "--no-progress")
    assert code == 0 and _final_accuracy(out) >= 0.98


def test_a_closed_output_stops_training_quietly_and_keeps_the_saved_epoch(tmp_path):
    # train | head -1: the pipe closes after the first line
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "chainrule", "train", "--epochs", "4", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.readline()  # the header
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and b"Traceback" not in err and b"the output was closed" in err
    saved = load(out / "model.safetensors")
    assert int(saved["epoch"]) >= 1 and (out / "metrics.csv").exists()
