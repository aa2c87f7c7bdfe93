"""The README's test line prints pytest's summary line ("N passed"), which -qq would hide."""

import os
import re
import shlex
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _quiet(args):
    return sum(a.count("q") for a in args if re.fullmatch(r"-q+", a)) + args.count("--quiet")


def test_readme_test_line_is_quiet_once_at_most():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        line = next(x for x in f if x.startswith('pip install ".[test]"'))
    pytest_args = shlex.split(line.split("python -m pytest", 1)[1])
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        addopts = tomllib.load(f)["tool"]["pytest"]["ini_options"].get("addopts", "")
    assert _quiet(pytest_args) + _quiet(shlex.split(addopts)) <= 1, (line, addopts)
