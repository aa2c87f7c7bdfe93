"""``train --model lstm``: the digits as sequences of rows, the model's shape, and the default run's accuracy."""

import re

import numpy as np

import chainrule as cr
from chainrule.cli import train
from chainrule.cli.training.models import MODELS, _shape_input, build_model
from chainrule.io import load


def test_lstm_reads_each_image_as_its_rows():
    assert "lstm" in MODELS
    x = np.arange(2 * 64, dtype=np.float32).reshape(2, 64)
    rows = _shape_input("lstm", x)
    assert rows.shape == (2, 8, 8)
    np.testing.assert_array_equal(rows[1, 3], x[1, 24:32])  # step 3 of sample 1 is its fourth row
    model = build_model("lstm", 64, 10)
    assert model(cr.tensor(rows)).shape == (2, 10)
    assert model.lstm.weight_ih_l0.shape == (4 * 128, 64)


def test_default_lstm_reaches_96_percent_on_digits(tmp_path, capsys):
    code = train.main(["--model", "lstm", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert float(re.search(r"^test accuracy: (\d+\.\d+)%", out, re.MULTILINE).group(1)) >= 96.0
    assert "lstm.weight_hh_l0" in {k.split("model.", 1)[-1] for k in load(tmp_path / "model.safetensors")}
