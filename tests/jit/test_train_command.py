"""``python -m chainrule train --jit`` trains to the same numbers as without it."""

import pytest

from chainrule.cli import train


def _metrics(folder):
    lines = (folder / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


@pytest.mark.parametrize("model, extra", [("mlp", ("--lr-schedule", "onecycle", "--clip-grad-norm", "1")),
                                          ("cnn", ())])
def test_jit_trains_like_eager(tmp_path, capsys, model, extra):
    common = ["--model", model, "--epochs", "1", "--batch-size", "256", "--no-progress", *extra]
    assert train.main([*common, "--out", str(tmp_path / "eager")]) == 0
    assert train.main([*common, "--jit", "--out", str(tmp_path / "jit")]) == 0
    capsys.readouterr()
    assert _metrics(tmp_path / "jit") == _metrics(tmp_path / "eager")
