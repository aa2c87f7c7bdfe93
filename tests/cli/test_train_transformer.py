"""``python -m chainrule train --model transformer``: digits read as sequences of 8 rows."""

import re

import numpy as np

from chainrule.cli import train
from chainrule.cli.training.models import _shape_input, build_model
from chainrule.io import load


def test_transformer_reads_each_image_as_a_sequence_of_its_rows():
    x = np.arange(2 * 64, dtype=np.float32).reshape(2, 64)
    seq = _shape_input("transformer", x)
    assert seq.shape == (2, 8, 8) and np.array_equal(seq[1, 3], x[1, 24:32])
    net = build_model("transformer", 64, 10)
    assert net(seq).shape == (2, 10)
    assert "encoder.layers.0.self_attn.in_proj_weight" in net.state_dict()


def test_default_transformer_reaches_95_percent_on_digits(tmp_path, capsys):
    code = train.main(["--model", "transformer", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    accuracy = float(re.search(r"^test accuracy: (\d+\.\d+)%", out, re.MULTILINE).group(1)) / 100
    assert accuracy >= 0.95
    saved = load(tmp_path / "model.safetensors")
    assert saved["model.pos"].shape == (8, 64)
