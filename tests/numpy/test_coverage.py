"""docs/numpy-coverage.md is what chainrule.numpy.coverage finds now (tests chainrule/numpy/coverage.py)."""

from pathlib import Path

import numpy as np

from chainrule.numpy.coverage import coverage_markdown, coverage_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "numpy-coverage.md"


def _table(text):
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_coverage_table_is_current():
    rows = coverage_rows()
    written = DOC.read_text(encoding="utf-8")
    if f"(NumPy {np.__version__})" in written:
        assert written == coverage_markdown(rows), "docs/numpy-coverage.md is stale: python -m chainrule.numpy.coverage"
    else:  # another NumPy lists other functions: nothing the table calls differentiable may have stopped being so
        now = {r.name: r for r in rows}
        lost = [name for name, cells in _table(written).items()
                if cells[0] == "differentiable" and name in now and now[name].status != "differentiable"]
        assert not lost, f"no longer differentiable: {lost}"


def test_the_probe_tells_the_statuses_apart():
    rows = {r.name: r for r in coverage_rows(["tanh", "matmul", "floor", "shape", "sort", "zeros", "show_config"])}
    assert rows["np.tanh"].status == rows["np.matmul"].status == "differentiable"
    assert rows["np.tanh"].reverse and rows["np.tanh"].forward and rows["np.tanh"].batched
    assert rows["np.shape"].status == "values only"
    assert rows["np.zeros"].status == "creation" and rows["np.show_config"].status == "not an array function"
    assert {rows["np.floor"].status, rows["np.sort"].status} <= {"zero derivative", "differentiable", "not supported"}
