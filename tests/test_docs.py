"""The docs never go stale: every code block and command line in README.md and docs/*.md runs, and matches.

Every ```python block runs (each file's blocks in order, in one namespace). A ```text block right
after a ```python block is that code's printed output and must match it (regenerate with
``python docs/make_images.py --outputs``). Blocks marked ```python no-run are skipped: use that only
for code that needs the network or runs for long, and say why next to it. Every ``python -m
chainrule`` command line, in a ```bash block or inline, runs through ``main(argv)``, except the ones
in ``SKIPPED``, each with its reason. The pictures must exist, be valid SVG and be what
docs/make_images.py draws now; and the tutorial's tables must show each worked example's closed forms.
"""

import contextlib
import importlib.util
import io
import math
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main

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


def test_tutorial_names_every_worked_example():
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


# ---- command lines ---------------------------------------------------------------------------
SKIPPED = {  # command line -> why the test does not run it
    'pip install ".[test]" && python -m pytest -q': "installs the test tools, then runs this very test suite",
    "python -m chainrule bench": "the table takes minutes (tests/cli/test_bench_table.py runs every row at tiny "
                                 "sizes, tests/test_benchmarks.py each script)",
}


# "pip install . && COMMAND": the package is installed already (this checkout), so the test runs COMMAND
INSTALLED = "pip install . && "


def command_lines(path):
    """Shell command lines of ``path``: each line of a ```bash block, and each inline `python -m ...`."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    found = []
    for info, first, last in blocks(lines):
        if info in ("bash", "sh", "shell", "console"):
            found += [line.strip() for line in lines[first + 1 : last] if line.strip() and not line.startswith("#")]
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # inline code outside the fenced blocks
    found += [m.group(1) for m in re.finditer(r"`(python -m [^`]+)`", prose)]
    return found


COMMANDS = [(p, line) for p in FILES for line in command_lines(p)]


@pytest.mark.parametrize("path, line", COMMANDS, ids=[f"{p.name}:{line}" for p, line in COMMANDS])
def test_command_lines_run(path, line, tmp_path, monkeypatch, capsys):
    if line in SKIPPED:
        pytest.skip(SKIPPED[line])
    argv = shlex.split(line.removeprefix(INSTALLED))
    assert argv[:3] == ["python", "-m", "chainrule"], (
        f"{path.name} shows the command line {line!r}: run it here through main(argv), or add it to SKIPPED "
        f"with the reason it cannot run in the tests"
    )
    monkeypatch.chdir(tmp_path)  # the files a command writes land in a scratch folder
    code = main(argv[3:])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", (line, err)
    assert out.strip()
    if "--out" in argv:
        written = tmp_path / argv[argv.index("--out") + 1]
        assert written.is_file() and written.stat().st_size > 0
    if argv[3:] == ["train"]:  # the Quick start's promise (about 3 s): test accuracy, and the plot in runs/
        assert "test accuracy" in out and (tmp_path / "runs" / "mlp-digits" / "curves.png").stat().st_size > 0


def test_every_skipped_command_line_is_still_in_the_docs():
    shown = {line for _, line in COMMANDS}
    assert set(SKIPPED) <= shown, set(SKIPPED) - shown  # a stale exemption would hide a new command


# ---- pictures ------------------------------------------------------------------------------------
def make_images():
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pictures_are_current(tmp_path):
    module = make_images()
    namespace, _ = module.tutorial_namespace(tmp_path)
    drawn = module.pictures(namespace)
    on_disk = {p.name for p in (ROOT / "docs" / "img").glob("*.svg")}
    assert set(drawn) == on_disk, "docs/img and docs/make_images.py's PICTURES disagree"
    stale = [name for name, svg in drawn.items() if (ROOT / "docs" / "img" / name).read_bytes() != svg]
    assert not stale, f"docs/img/{', '.join(stale)} differ from what the tutorial draws now: python docs/make_images.py"
    shown = {name for doc in (ROOT / "docs").glob("*.md")
             for name in re.findall(r"!\[[^\]]*\]\(img/([^)]+)\)", doc.read_text(encoding="utf-8"))}
    assert shown == on_disk  # every picture is shown, every shown picture is drawn


# ---- the worked examples' numbers -------------------------------------------------------------------
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def worked_examples():
    """(section, text block in it, output value, gradients or tangent, digits shown): each from its closed form."""
    ex = []
    x, y, z = -2.0, 5.0, -4.0
    ex.append(("1.", 0, (x + y) * z, [z, z, x + y], 6))
    x1, x2 = 2.0, 5.0
    ex.append(("2.", 0, x1 * x2 + math.sin(x2), [x2, x1 + math.cos(x2)], 6))
    ex.append(("2.", 1, math.log(x1) + x1 * x2 - math.sin(x2), [1 / x1 + x2, x1 - math.cos(x2)], 6))
    ex.append(("3.", 0, 5.0, [3 / 5, 4 / 5], 6))
    w, b, x, t, lam = 0.5, -1.0, 2.0, 1.0, 0.1
    s = sigmoid(w * x + b)
    loss = 0.5 * (s - t) ** 2 + lam * 0.5 * w**2
    ex.append(("4.", 0, loss, [(s - t) * s * (1 - s) * x + lam * w, (s - t) * s * (1 - s)], 6))
    wv, xv = np.array([0.5, -0.25, 1.0]), np.array([1.0, 2.0, -1.0])
    p = sigmoid(wv @ xv)
    ex.append(("4.", 1, 0.5 * wv @ wv - 0.1 * np.log(p), [wv - 0.1 * (1 - p) * xv], 6))
    x = 3.0
    g, dg = math.exp(x) / x**2, math.exp(x) * (x - 2) / x**3
    ex.append(("5.", 0, g, [dg], 6))
    ex.append(("5.", 1, g, dg, 6))  # forward mode: the tangent
    ex.append(("6.", 0, *two_layer(), 4))
    xs = np.array([0.5, 1.0, 1.5, 2.0])
    ex.append(("7.", 0, np.sum(xs * np.sin(xs)), [np.cos(xs) * xs + np.sin(xs)], 4))
    ex.append(("7.", 1, np.array([2.0, 4.0, math.exp(2.0)]), np.array([1.0, 4.0, math.exp(2.0)]), 4))
    ex.append(("8.", 0, *edf_mlp(), 3))
    return ex


def two_layer():
    x, t = np.array([1.0, -2.0]), np.array([1.0, 0.0])
    W1 = np.array([[0.5, -0.3], [0.8, 0.2], [-0.4, 0.6]])
    b1 = np.array([0.1, -0.1, 0.0])
    W2 = np.array([[1.0, -1.0, 0.5], [0.3, 0.7, -0.2]])
    b2 = np.array([0.0, 0.1])
    h = sigmoid(W1 @ x + b1)
    y = W2 @ h + b2
    y_bar = y - t  # the notes' vectorised backward pass
    z_bar = (W2.T @ y_bar) * h * (1 - h)
    return 0.5 * np.sum((t - y) ** 2), [np.outer(z_bar, x), z_bar, np.outer(y_bar, h), y_bar]


def edf_mlp():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.5, -0.5]])
    W1 = np.array([[0.2, -0.5, 0.1, 0.4], [-0.3, 0.8, 0.5, -0.2], [0.6, 0.1, -0.4, 0.3]])
    B1 = np.array([0.1, 0.0, -0.1, 0.05])
    W2 = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [-0.7, 0.2, 0.5], [0.1, -0.3, 0.8]])
    B2 = np.array([0.0, 0.1, -0.1])
    y, n = np.array([2, 0]), 2
    A1 = x @ W1 + B1
    L1 = np.maximum(A1, 0)
    S = sigmoid(L1 @ W2 + B2)
    Q = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    Q_grad = np.zeros_like(Q)
    Q_grad[np.arange(n), y] = -1 / (n * Q[np.arange(n), y])
    A2_grad = Q * (Q_grad - (Q_grad * Q).sum(axis=1, keepdims=True)) * S * (1 - S)
    A1_grad = (A2_grad @ W2.T) * (A1 > 0)
    grads = [x.T @ A1_grad, A1_grad.sum(axis=0), L1.T @ A2_grad, A2_grad.sum(axis=0)]
    return np.mean(-np.log(Q[np.arange(n), y])), grads


_NUMBER = r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)"


def numbers(text):
    """The numbers a printed value shows: ``(3,) [1, -2.5]`` -> [1, -2.5]; ``(4, 3) array in [a, b]`` -> [a, b]."""
    text = re.sub(r"^\(\d*(?:, ?\d+)*,?\) ", "", text.strip())  # the shape
    return [float(v) for v in re.findall(_NUMBER, text)]


def shown(expected):
    a = np.asarray(expected, dtype=float)
    return a.ravel() if a.size <= 8 else np.array([a.min(), a.max()])  # large arrays print their range


def tables(section):
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    part = next(p for p in text.split("\n## ")[1:] if p.startswith(section))
    return re.findall(r"```text\n(.*?)```", part, flags=re.DOTALL)


@pytest.mark.parametrize(
    "section, k, value, derivative, digits", worked_examples(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_tutorial_shows_each_worked_examples_closed_forms(section, k, value, derivative, digits):
    table = tables(section)[k]
    close = {"rtol": 10.0 ** (1 - digits), "atol": 10.0 ** (-digits)}
    output = next(line for line in table.splitlines() if "← " in line)
    cell = output.split("  = ", 1)[1].split("  ")[0]  # the value column: cells are two blanks apart
    np.testing.assert_allclose(numbers(cell), shown(value), **close)
    if " forward mode" in table.splitlines()[0]:
        tangent = table.split("\nResult\n")[1].splitlines()[1]  # v̇4 = 0.743909 = ∂g/∂x
        np.testing.assert_allclose(numbers(tangent.split(" = ")[1]), shown(derivative), **close)
        return
    rows = table.split("\nGradients\n")[1].strip().splitlines()
    assert len(rows) == len(derivative)
    for row, expected in zip(rows, derivative):
        np.testing.assert_allclose(numbers(row.rsplit("  = ", 1)[1]), shown(expected), **close)
