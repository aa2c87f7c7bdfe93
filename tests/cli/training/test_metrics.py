"""curves.png is replotted after the first epoch and then only while plotting is cheap."""

import math

from chainrule.cli.training import metrics


def test_curves_are_replotted_while_that_is_cheap(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(metrics, "plot_curves", lambda path, history, title: shown.append(len(history["lr"])) or True)
    history = {name: [] for name in metrics._COLUMNS[1:]}
    plot = metrics._Plot(str(tmp_path / "c.png"), "t")
    for epoch in range(4):
        for values in history.values():
            values.append(0.0)
        plot.epoch_done(history)
        plot.cost = 0.0 if epoch < 1 else math.inf  # free, then (say) slower than the epochs
    plot.flush(history)
    plot.flush(history)  # nothing new: no second write
    assert shown == [1, 2, 4]
