"""The layout rules that keep the code readable: every Python file at most 500 lines."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 500


def test_no_file_is_longer_than_the_limit():
    folders = ("chainrule", "tests", "benchmarks", "examples", "docs")
    files = [p for folder in folders for p in (ROOT / folder).rglob("*.py")]
    lengths = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in files}
    long = {name: n for name, n in lengths.items() if n > LIMIT}
    assert files and not long, f"split these files into modules named by what they hold: {long}"
