"""Every ```python block in README.md and docs/*.md runs (each file's blocks in order, in one namespace).

A ```text block right after a ```python block is that code's printed output and must match it
(regenerate with ``python docs/make_images.py --outputs``). Blocks marked ```python no-run are
skipped: use that only for code that needs the network or runs for long, and say why next to it.
The pictures the docs show must exist and be valid SVG.
"""

import contextlib
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(lines):
    """Fenced blocks as ``(info, first, last)`` with the line numbers of the opening and closing fences."""
    found, start, info = [], None, None
    for k, line in enumerate(lines):
        if line.startswith("```"):
            if start is None:
                start, info = k, line[3:].strip()
            else:
                found.append((info, start, k))
                start = None
    assert start is None, "a code fence is never closed"
    return found


def expected_output(lines, found, k):
    """The ```text block directly after block ``k`` (only blank lines between), or None."""
    if k + 1 >= len(found):
        return None
    _, _, last = found[k]
    info, first, end = found[k + 1]
    if info != "text" or any(line.strip() for line in lines[last + 1 : first]):
        return None
    return "\n".join(lines[first + 1 : end])


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files the examples write land in a scratch folder
    lines = path.read_text(encoding="utf-8").split("\n")
    found = blocks(lines)
    namespace = {"__name__": "docs"}
    ran = 0
    for k, (info, first, last) in enumerate(found):
        if info != "python":
            continue  # ```bash, ```text, and ```python no-run
        where = f"{path.name}:{first + 2}"
        # Blank lines in front keep the line numbers of the Markdown file, so a traceback shows the
        # failing line of the document itself.
        code = compile("\n" * (first + 1) + "\n".join(lines[first + 1 : last]), str(path), "exec")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, namespace)  # noqa: S102 - running the documentation's own examples is this test's job
        ran += 1
        expected = expected_output(lines, found, k)
        if expected is not None:
            assert out.getvalue().rstrip("\n") == expected.rstrip("\n"), (
                f"the output printed by the block at {where} differs from the text after it; "
                f"run python docs/make_images.py --outputs"
            )
    assert ran > 0 or path.name != "tutorial.md"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pictures_exist_and_are_svg(path):
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
        picture = path.parent / target
        assert picture.is_file(), f"{path.name} shows {target}, which does not exist (python docs/make_images.py)"
        if picture.suffix == ".svg":
            root = ET.parse(picture).getroot()
            assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_tutorial_walks_through_every_worked_example():
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    for needle in [
        "(x + y) z at (−2, 5, −4)",
        "x1 x2 + sin x2",
        "ln x1 + x1 x2 − sin x2",
        "√(x² + y²)",
        "regularised logistic unit",
        "exp(x) / x²",
        "two-layer net",
        "wide",
        "tall",
        "EDF",
    ]:
        assert needle in text, needle
    assert len(re.findall(r"!\[[^\]]*\]\(img/[^)]+\.svg\)", text)) >= 10
