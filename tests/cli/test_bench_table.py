"""``python -m chainrule bench``: every row's check at tiny sizes, the table's shape, --json, --rows, a wrong cell.

No timing is asserted: the numbers are whatever this machine gives; what is checked is that every
column computes what the hand-written NumPy computes, and that a column which does not is named and fails.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.benchmarks import harness, memory, table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMED_ROWS = [key for key in table.ROWS if key != "memory"]


@pytest.fixture
def jit(monkeypatch):
    """The jit column runs ``cr.jit`` where it exists; before it does, a stand-in that calls ``f`` eagerly."""
    if not hasattr(cr, "jit"):
        monkeypatch.setattr(cr, "jit", lambda f: f, raising=False)


@pytest.mark.parametrize("key", TIMED_ROWS)
def test_every_column_of_every_row_matches_numpy(key, jit):
    cols = harness.available()
    assert {"numpy", "eager", "jit"} <= set(cols)
    values, times, errors = harness.measure_row(table.ROWS[key], cols, "tiny")
    assert errors == {}
    assert set(values) == set(cols) and all(v is not None and v > 0 for v in values.values())


def test_memory_row_matches_numpy_in_fresh_processes():
    values, errors = memory.measure(["numpy", "eager", "jit"], "tiny")
    assert errors == {} and set(values) == {"numpy", "eager"}  # no jit cell: the row measures the tape


def test_a_wrong_column_is_named_and_fails_the_command(monkeypatch, capsys):
    row = table.ROWS["jacrev"]
    build = row.build

    def wrong(col, size):
        case = build(col, size)
        if col == "eager":
            right = case.check
            case.check = lambda: [a * (1 + 1e-6) for a in harness._as_arrays(right())]
        return case

    monkeypatch.setattr(row, "build", wrong)
    assert table.main(["--tiny", "--rows", "jacrev", "--columns", "numpy,eager"]) == 1
    out, err = capsys.readouterr()
    assert "| Jacobian R²⁰⁰⁰→R¹⁰, reverse mode | " in out and "WRONG" in out
    assert "row jacrev, column eager: Mismatch: jacrev / eager: result 0 differs" in err


def test_the_table_has_every_row_and_column_and_the_json_its_numbers(tmp_path, capsys, jit):
    path = tmp_path / "bench.json"
    rows = "mlp1,tape,hvp,memory"
    assert table.main(["--tiny", "--rows", rows, "--columns", "numpy,eager,jit", "--json", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| workload | " + " | ".join(harness.COLUMNS.values()) + " |"
    body = [line for line in lines[2:] if line.startswith("| ")]
    assert [line.split(" | ")[0][2:] for line in body] == [table.ROWS[k].label for k in rows.split(",")]
    assert all(line.count(" | ") == len(harness.COLUMNS) for line in body)
    assert body[0].split(" | ")[1].endswith(" ms") and body[1].split(" | ")[2].endswith(" µs")
    assert body[3].split(" | ")[3] == "—"  # no jit cell in the memory row
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data["rows"]) == rows.split(",") and data["mode"] == "tiny" and data["machine"]
    assert data["rows"]["memory"]["cells"]["jit"] is None and data["rows"]["hvp"]["unit"] == "hvp/grad"
    cells = data["rows"]["mlp1"]["cells"]
    assert all(isinstance(cells[c], float) for c in ("numpy", "eager", "jit"))
    assert cells["jax"] is None or "jax" in data["measured"]


def test_unknown_rows_are_refused(capsys):
    assert table.main(["--rows", "mlp128,nosuch"]) == 2
    assert "unknown row(s) ['nosuch']" in capsys.readouterr().err


def test_the_command_times_in_a_single_threaded_child(tmp_path):
    path = tmp_path / "out.json"
    env = dict(os.environ, PYTHONIOENCODING="utf-8", OPENBLAS_NUM_THREADS="4")
    proc = subprocess.run([sys.executable, "-m", "chainrule", "bench", "--tiny", "--rows", "jacfwd,tape",
                           "--json", str(path)], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| Jacobian R¹⁰→R²⁰⁰⁰, forward mode | " in proc.stdout
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["threads"]["OPENBLAS_NUM_THREADS"] == "1"
    assert np.isfinite(data["rows"]["tape"]["cells"]["eager"])


def test_the_json_is_written_atomically(tmp_path, monkeypatch, capsys):
    # a run that fails while writing (a full disk, Ctrl-C) leaves the previous results whole, and no stray file
    path = tmp_path / "bench.json"
    path.write_text('{"previous": true}', encoding="utf-8")

    def dump(obj, f, **kw):
        f.write('{"rows": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(table.json, "dump", dump)
    with pytest.raises(OSError, match="No space left"):
        table.main(["--tiny", "--rows", "tape", "--columns", "numpy,eager", "--json", str(path)])
    assert json.loads(path.read_text(encoding="utf-8")) == {"previous": True}
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]
