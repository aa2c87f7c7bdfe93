"""``python -m chainrule train`` through ``main(argv)``: outputs, exact resume, determinism, failures, IDX data."""

import gzip
import re
import struct

import numpy as np
import pytest

from chainrule.cli import train
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
    assert "epoch 1/1" in err  # the progress bar, on stderr
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,test_loss,test_acc,seconds" and len(lines) == 2
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ck = checkpoint(tmp_path)
    assert int(ck["epoch"]) == 1
    assert ck["model.0.weight"].shape == (256, 64) and ck["model.0.weight"].dtype == np.float32
    assert "optimizer.state.0.exp_avg" in ck and "optimizer.param_groups.0.lr" in ck


def test_resume_continues_exactly_and_same_seed_repeats(tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    common = ("--no-progress", "--seed", "3", "--batch-size", "64")
    assert run(capsys, "--epochs", "2", "--out", str(a), *common)[0] == 0
    assert run(capsys, "--epochs", "1", "--out", str(b), *common)[0] == 0
    code, out, _ = run(capsys, "--resume", "--epochs", "2", "--out", str(b), "--no-progress")
    assert code == 0 and "epochs 2..2" in out
    same_run(checkpoint(a), checkpoint(b))
    assert run(capsys, "--epochs", "2", "--out", str(c), *common)[0] == 0
    same_run(checkpoint(a), checkpoint(c))
    rows = lambda p: [r.split(",")[:4] for r in (p / "metrics.csv").read_text().splitlines()]  # noqa: E731
    assert rows(a) == rows(b) == rows(c)
    # already at the requested epoch: nothing to do, still a success
    code, out, _ = run(capsys, "--resume", "--epochs", "2", "--out", str(b), "--no-progress")
    assert code == 0 and "nothing to train" in out


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    assert run(capsys, "--epochs", "1", "--optimizer", "sgd", "--out", str(tmp_path), "--no-progress")[0] == 0
    before = (tmp_path / "model.safetensors").read_bytes()
    with np.errstate(all="ignore"):
        code, _, err = run(capsys, "--resume", "--epochs", "3", "--lr", "1e30", "--out", str(tmp_path),
                             "--no-progress")
    assert code == 1
    assert re.search(r"stopped: the (loss became (nan|inf)|weights became non-finite).*epoch 2", err)
    assert "last good checkpoint (epoch 1)" in err
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


def test_resume_refuses_a_different_model(tmp_path, capsys):
    assert run(capsys, "--epochs", "1", "--out", str(tmp_path), "--no-progress")[0] == 0
    code, _, err = run(capsys, "--resume", "--model", "cnn", "--epochs", "2", "--out", str(tmp_path))
    assert code == 2 and "--model mlp, not cnn" in err


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


def test_blas_threads_are_restored(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    found = train._blas_thread_setters()
    if found is None:
        pytest.skip("no OpenBLAS thread control in this process")
    _, get = found
    before = get()
    with train.blas_threads(1):
        assert get() == 1
    assert get() == before
