"""The learning-rate schedule of ``python -m chainrule train``: cosine segments and how a resume extends them."""

import pytest

from chainrule.cli.training import schedule


def test_lr_schedule_segments():
    assert schedule.plan_schedule(None, 0, 5, 0.1, False) == [[0, 5, 0.1]]
    kept = [[0, 5, 0.1]]
    assert schedule.plan_schedule(kept, 3, 5, 0.1, False) is kept  # same --epochs: unchanged, hence exact
    assert schedule.plan_schedule(kept, 5, 5, 0.1, False) is kept
    longer = schedule.plan_schedule(kept, 5, 10, 0.1, False)
    assert longer[:1] == kept and longer[1][:2] == [5, 10]
    assert longer[1][2] == pytest.approx(schedule.lr_at(kept, 4)) and schedule.lr_at(longer, 5) == longer[1][2]
    # a cut-short segment is replaced when the run is extended again from the same epoch
    assert schedule.plan_schedule(longer, 5, 8, 0.1, False)[1][:2] == [5, 8]
    rates = [schedule.lr_at(longer, e) for e in range(10)]
    assert rates == sorted(rates, reverse=True)
