"""The layout rules that keep the code readable: every Python file at most 500 lines."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 500


def test_no_file_is_longer_than_the_limit():
    files = [p for folder in ("chainrule", "tests", "benchmarks", "examples", "docs") for p in (ROOT / folder).rglob("*.py")]
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert files and not long, f"split these files into modules named by what they hold: {long}"
