"""``train`` with crafted checkpoints and data: each refused with exit code 2 and one line naming file and field."""

import gzip
import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.cli import train
from chainrule.cli.training.checkpoint import _check_schema
from chainrule.cli.training.data import count_classes
from chainrule.cli.training.errors import TrainError
from chainrule.io import load, save

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real one-epoch checkpoint: (tensors, metadata)."""
    out = tmp_path_factory.mktemp("trained")
    assert train.main(["--epochs", "1", "--batch-size", "512", "--no-progress", "--out", str(out)]) == 0
    return load(out / "model.safetensors", with_metadata=True)


def refused(capsys, folder, *argv):
    """The one line of a run that must exit 2."""
    code = train.main([*argv, "--no-progress", "--out", str(folder)])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, out, err)
    return lines[0]


def _config(**change):
    config = {"model": "mlp", "optimizer": "adam", "data": "digits", "seed": 0, "batch_size": 512, "lr": 0.002,
              "epochs": 1, "schedule": [[0, 1, 0.002]]}
    config.update(change)
    return {k: v for k, v in config.items() if v is not DROP}


DROP = object()
# (what is changed, the field the one line must name)
CRAFTED = {
    "epoch is a list": ({"epoch": np.array([1, 2])}, None, "field epoch"),
    "epoch negative": ({"epoch": np.array(-5)}, None, "field epoch"),
    "epoch 2**62": ({"epoch": np.array(2**62)}, None, "field epoch"),
    "epoch a float": ({"epoch": np.array(1.0)}, None, "field epoch"),
    "config a list": ({}, [1, 2], "field config"),
    "config.model a number": ({}, _config(model=3), "field config.model"),
    "config.model unknown": ({}, _config(model="resnet"), "field config.model"),
    "config.lr a string": ({}, _config(lr="fast"), "field config.lr"),
    "config.lr negative": ({}, _config(lr=-1.0), "field config.lr"),
    "config.lr NaN": ({}, _config(lr=float("nan")), "field config.lr"),
    "config.seed negative": ({}, _config(seed=-1), "field config.seed"),
    "config.seed a bool": ({}, _config(seed=True), "field config.seed"),
    "config.batch_size 0": ({}, _config(batch_size=0), "field config.batch_size"),
    "config.epochs 2**62": ({}, _config(epochs=2**62), "field config.epochs"),
    "config.schedule garbage": ({}, _config(schedule="garbage"), "field config.schedule"),
    "config.schedule short segment": ({}, _config(schedule=[[0, 1]]), "field config.schedule"),
    "config.schedule not rising": ({}, _config(schedule=[[0, 5, 0.1], [0, 6, 0.1]]), "field config.schedule"),
    "config.schedule empty segment": ({}, _config(schedule=[[0, 0, 0.1]]), "field config.schedule"),
    "config.data missing": ({}, _config(data=DROP), "field config.data"),
    "config unknown key": ({}, {**_config(), "evil": 1}, "field config.evil"),
    "metrics too short": ({"metrics.train_loss": np.zeros(0)}, None, "field metrics.train_loss"),
    "metrics missing": ({"metrics.test_loss": None}, None, "field metrics.test_loss"),
    "metrics lr missing": ({"metrics.lr": None}, None, None),  # recomputed from the schedule: resumes
    "metrics 2-d": ({"metrics.test_acc": np.zeros((1, 1))}, None, "field metrics.test_acc"),
    "optimizer state missing": ({"optimizer.state.0.exp_avg": None}, None, "field optimizer.state.0.exp_avg"),
    "optimizer group key missing": ({"optimizer.param_groups.0.eps": None}, None, "field optimizer.param_groups.0.eps"),
    "optimizer lr NaN": ({"optimizer.param_groups.0.lr": np.array(np.nan)}, None, "optimizer.param_groups.0.lr"),
    "optimizer params shuffled": ({"optimizer.param_groups.0.params": np.array([5, 4, 3, 2, 1, 0])}, None,
                                  "optimizer.param_groups.0.params"),
    "optimizer state of a 7th parameter": ({"optimizer.state.6.step": np.array(1.0)}, None, "optimizer.state.6"),
    "optimizer state wrong shape": ({"optimizer.state.1.exp_avg": np.zeros(3, np.float32)}, None,
                                    "optimizer.state.1.exp_avg"),
    "optimizer state inf": ({"optimizer.state.1.step": np.array(np.inf, np.float32)}, None,
                            "optimizer.state.1.step"),
    "optimizer betas over 1": ({"optimizer.param_groups.0.betas": np.array([5.0, 0.999])}, None,
                               "optimizer.param_groups"),
    "optimizer amsgrad a number": ({"optimizer.param_groups.0.amsgrad": np.array(2.0)}, None,
                                   "optimizer.param_groups.0.amsgrad"),
    "unknown tensor": ({"evil": np.zeros(1)}, None, "field 'evil'"),
    "model weight wrong shape": ({"model.0.weight": np.zeros((3, 3), np.float32)}, None, "0.weight"),
    "model weight missing": ({"model.2.bias": None}, None, "2.bias"),
    "model weight an int into a float": ({"model.0.bias": np.zeros(256, np.uint8)}, None, None),  # fits: loads
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_checkpoints_exit_2_with_one_line(tmp_path, capsys, trained, case):
    tensors, meta = trained
    change, config, field = CRAFTED[case]
    tensors = {k: v for k, v in tensors.items() if change.get(k, 0) is not None}
    tensors.update({k: v for k, v in change.items() if v is not None})
    meta = dict(meta, config=json.dumps(config)) if config is not None else meta
    save(tensors, tmp_path / "model.safetensors", metadata=meta)
    if field is None:  # a valid checkpoint after all: it resumes (nothing left to train)
        assert train.main(["--resume", "--no-progress", "--out", str(tmp_path)]) == 0
        return
    line = refused(capsys, tmp_path, "--resume")
    assert str(tmp_path / "model.safetensors") in line and field in line, line


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(field=st.sampled_from(["model", "optimizer", "data", "seed", "batch_size", "lr", "epochs", "schedule"]),
       value=st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
                          lambda inner: st.lists(inner, max_size=4), max_leaves=10),
       epoch=st.integers(-(2**63), 2**63 - 1))
def test_any_config_value_is_checked_or_accepted(field, value, epoch):
    problem = _check_schema({"epoch": np.array(epoch)}, _config(**{field: value}))
    if problem is not None:
        assert "\n" not in problem and problem.startswith("field ")
    else:  # accepted: then every field has the type and range the training code relies on
        config = _config(**{field: value})
        assert 0 <= epoch <= config["epochs"] <= 10**7 and config["lr"] > 0


def _idx(array, code=None):
    array = np.asarray(array)
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[array.dtype.str[1:]] if code is None else code
    head = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _folder(path, train_labels, test_labels=None, images=None):
    path.mkdir()
    train_labels = np.asarray(train_labels)
    if train_labels.dtype == np.int64:
        train_labels = train_labels.astype(np.uint8)
    test_labels = train_labels if test_labels is None else np.asarray(test_labels)
    for split, labels in (("train", train_labels), ("t10k", test_labels)):
        pictures = np.zeros((len(labels), 4, 4), np.uint8) if images is None else images
        (path / f"{split}-images-idx3-ubyte").write_bytes(_idx(pictures))
        (path / f"{split}-labels-idx1-ubyte").write_bytes(_idx(labels))
    return path


@pytest.mark.parametrize("labels, field", [
    (np.array([0, 1, 2, 1.5], np.float32), "dtype: labels must be integers"),
    (np.array([0, 1, np.nan, 1], np.float64), "dtype: labels must be integers"),
    (np.array([0, 1, 2**31 - 1, 1], np.int32), "labels: must lie in 0..65535"),
    (np.array([0, 1, -3, 1], np.int8), "labels: must lie in 0..65535"),
    (np.zeros(0, np.uint8), "shape: holds no images"),
])
def test_bad_labels_exit_2_with_one_line(tmp_path, capsys, labels, field):
    folder = _folder(tmp_path / "data", labels)
    line = refused(capsys, tmp_path / "out", "--data", str(folder))
    assert "idx" in line and field in line, line


def test_nan_images_and_empty_test_set(tmp_path, capsys):
    images = np.full((4, 2, 2), np.nan, np.float32)
    folder = _folder(tmp_path / "nan", [0, 1, 0, 1], images=images)
    assert "pixels: holds NaN" in refused(capsys, tmp_path / "o1", "--data", str(folder))
    folder = _folder(tmp_path / "empty", [0, 1, 0, 1], test_labels=np.zeros(0, np.uint8))
    line = refused(capsys, tmp_path / "o2", "--data", str(folder))
    assert "t10k-images" in line and "holds no images" in line


def test_count_classes_allocates_nothing_for_a_crafted_label():
    with pytest.raises(TrainError, match="2147483648 classes"):
        count_classes(np.array([0, 1, 2**31 - 1]), np.array([0]))


# Peak memory, measured in a fresh process: the gzip bomb (the header of 10 labels, then 100 MB of zeros in a
# 100 kB file; 200 MB held before) and a label of 2**31 - 1 (24 GB) now each stop before allocating.
MEMORY = textwrap.dedent("""
    import gzip, os, resource, sys, zlib
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from chainrule.data import load_idx
    from chainrule.cli import train
    folder = sys.argv[2]

    def bomb(path, head):
        z = zlib.compressobj(1, zlib.DEFLATED, 31)
        with open(path, "wb") as f:
            f.write(z.compress(head))
            zeros = bytes(1 << 20)
            for _ in range(100):
                f.write(z.compress(zeros))
            f.write(z.flush())

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    base = peak_mb()
    for name, head in (("bomb-zeros.gz", b""), ("bomb-labels.gz", bytes([0, 0, 8, 1, 0, 0, 0, 10]))):
        bomb(os.path.join(folder, name), head)
        try:
            load_idx(os.path.join(folder, name))
        except ValueError as e:
            print("refused:", e)
    data = os.path.join(folder, "data")
    os.mkdir(data)
    for split in ("train", "t10k"):
        with open(os.path.join(data, split + "-images-idx3-ubyte"), "wb") as f:
            f.write(bytes([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2]) + bytes(12))
        with open(os.path.join(data, split + "-labels-idx1-ubyte"), "wb") as f:
            f.write(bytes([0, 0, 0x0C, 1, 0, 0, 0, 3]) + np.array([0, 1, 2**31 - 1], ">i4").tobytes())
    print("exit", train.main(["--data", data, "--out", os.path.join(folder, "out"), "--no-progress"]))
    print("grew", peak_mb() - base)
""")


def test_gzip_bomb_and_huge_label_stay_within_a_memory_bound(tmp_path):
    proc = subprocess.run([sys.executable, "-c", MEMORY, ROOT, str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr
    assert "unknown dtype code 0x00" in lines[0] and "bomb-zeros.gz" in lines[0]
    assert "has trailing data" in lines[1] and "bomb-labels.gz" in lines[1]
    assert lines[2] == "exit 2" and "labels: must lie in 0..65535" in proc.stderr
    assert float(lines[3].split()[1]) < 50  # MB beyond the interpreter's own: the 100 MB were never held


def test_a_header_larger_than_gzip_can_hold_is_refused_before_allocating(tmp_path):
    from chainrule.data import load_idx

    path = tmp_path / "claims.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBIII", 0, 8, 3, 60000, 60000, 60000)))
    with pytest.raises(ValueError, match=r"claims\.gz.*more than its compressed size allows"):
        load_idx(path)
