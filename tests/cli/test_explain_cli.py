"""`python -m chainrule explain` and `graph`, through main(argv): output, files, and refusals with exit code 2."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import chainrule
from chainrule.cli import main
from chainrule.cli.explain import FUNCTION_NAMES, functions


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_prints_trace_and_adjoints(capsys):
    code, out, err = run(capsys, "explain", "x1*x2 + sin(x2)", "x1=2", "x2=5")
    assert code == 0 and err == ""
    assert "v3 = v1 · v2  = 10" in out
    assert "v̄2 = v̄3 · ∂v3/∂v2 + v̄4 · ∂v4/∂v2" in out and "= 1 · 2 + 1 · 0.283662 = 2.28366" in out
    assert "∂f/∂x1 = x̄1 = v̄1  = 5" in out


def test_explain_the_notes_first_example(capsys):
    code, out, _ = run(capsys, "explain", "(x + y) * z", "x=-2", "y=5", "z=-4")
    assert code == 0
    assert "v̄3 = v̄5 · ∂v5/∂v3  = 1 · 3 = 3" in out
    assert [line.split("=")[-1].strip() for line in out.splitlines() if line.lstrip().startswith("∂f/")] == [
        "-4",
        "-4",
        "3",
    ]


def test_forward_mode_ascii_and_precision(capsys):
    code, out, _ = run(
        capsys,
        "explain",
        "ln(x1) + x1*x2 - sin(x2)",
        "x1=2",
        "x2=5",
        "--mode",
        "forward",
        "--direction",
        "x2",
        "--ascii",
        "--precision",
        "3",
    )
    assert code == 0 and out.isascii()
    assert "v7_dot = 1.72 = df/dx2" in out


def test_graph_writes_svg_and_png(capsys, tmp_path):
    svg = tmp_path / "g.svg"
    code, out, _ = run(capsys, "graph", "x1*x2 + sin(x2)", "x1=2", "x2=5", "--out", str(svg))
    assert code == 0 and f"wrote {svg}" in out
    root = ET.parse(svg).getroot()
    assert sum(1 for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node") == 5
    png = tmp_path / "g.png"
    assert run(capsys, "graph", "x*y", "x=2", "y=3", "--out", str(png), "--mode", "forward")[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_prints_dot(capsys):
    code, out, _ = run(capsys, "graph", "x*y", "x=2", "y=3", "--out", "-")
    assert code == 0 and out.startswith("digraph") and "v3 = v1 · v2" in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["explain", "x*y", "x=1"], "missing y"),
        (["explain", "x", "x=1", "y=2"], "not in the expression"),
        (["explain", "x", "x=abc"], "not a number"),
        (["explain", "2*3"], "no variables"),
        (["explain", "x*", "x=1"], "syntax error"),
        (["explain", "foo(x)", "x=1"], "unknown function 'foo'"),
        (["explain", "x", "x=1", "--direction", "x"], "forward only"),
        (["explain", "x", "x=1", "--precision", "0"], "precision"),
        (["graph", "x*y", "x=1", "y=2", "--out", "g.jpg"], "cannot tell the format"),
    ],
)
def test_bad_input_is_refused_with_a_message(capsys, argv, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"python -m chainrule {argv[0]}: error:") and words in err
    assert "Traceback" not in err


MALICIOUS = [
    "__import__('os').system('touch PWNED')",
    "__import__('os')",
    "x.__class__.__bases__",
    "x.real",
    "(lambda: x)()",
    "[x for x in (1, 2)]",
    "{x for x in (1,)}",
    "sum(x for x in (1,))",
    "sin(x=1)",
    "sin(**{'x': x})",
    "sin(*[x])",
    "10**10**10",
    "x * 10**100000",
    "(" * 200 + "x" + ")" * 200,
    "-" * 300 + "x",
    "x if x else x",
    "x; import os",
    "open('PWNED', 'w')",
    "eval('1')",
    "getattr(x, 'real')",
    "x[0]",
    "'a' * 10",
    "f'{x}'",
    "x == 1",
    "(y := x)",
    "x" + " + x" * 600,
]


@pytest.mark.parametrize("source", MALICIOUS, ids=range(len(MALICIOUS)))
def test_malicious_expressions_are_refused_without_running(capsys, source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("explain", "graph"):
        code, out, err = run(capsys, command, "--", source, "x=1")
        assert code == 2, (source, out)
        assert "error:" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing was written, nothing was executed


def test_nan_is_shown_not_raised(capsys):
    code, out, err = run(capsys, "explain", "log(x)", "x=-1")
    assert code == 0 and "= nan" in out and err == ""


def test_missing_expression_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["explain"])
    assert exc.value.code == 2


def test_function_whitelist_names_real_chainrule_functions():
    table = functions()
    assert set(FUNCTION_NAMES) <= set(table) and table["ln"] is chainrule.log
    assert "tensor" not in table and "load" not in table and "save" not in table


def test_python_dash_m(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__)))
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]), PYTHONIOENCODING="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "chainrule", "explain", "x1*x2 + sin(x2)", "x1=2", "x2=5"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2.28366" in proc.stdout


def run_ascii_terminal(tmp_path, *argv):
    """``python -m chainrule ...`` on a terminal that can show only ASCII."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    env["PYTHONIOENCODING"] = "ascii"
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *argv],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["explain", "graph"])
def test_help_on_an_ascii_terminal(tmp_path, command):
    proc = run_ascii_terminal(tmp_path, command, "--help")
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.isascii() and b"v_bar" in proc.stdout  # v̄ = ∂f/∂v spelled out


def test_output_on_an_ascii_terminal(tmp_path):
    proc = run_ascii_terminal(tmp_path, "explain", "sqrt(x*x + y*y)", "x=3", "y=4")
    assert proc.returncode == 0 and proc.stdout.isascii()
    assert b"dv6/dv5 = 1/(2*sqrt(v5))" in proc.stdout
    proc = run_ascii_terminal(tmp_path, "graph", "x*y", "x=2", "y=3", "--out", "-")
    assert proc.returncode == 0 and proc.stderr == b"" and proc.stdout.isascii()
    dot_text = proc.stdout.decode("ascii")
    assert "v&#772;1 = 3" in dot_text  # v̄1 as a character reference, which Graphviz draws as v̄1
    svg = chainrule.viz.render(dot_text, "svg").decode("utf-8")
    assert "v\u03041 = 3" in svg or "v&#772;1 = 3" in svg


def test_ascii_columns_line_up(capsys):
    code, out, _ = run(capsys, "explain", "x1*x2 + sin(x2)", "x1=2", "x2=5", "--ascii")
    assert code == 0 and out.isascii()
    backward = out.split("\n\n")[2].splitlines()[1:]
    assert len({line.index("  = ") for line in backward}) == 1, backward


def test_graph_errors_name_the_path_and_the_option(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "graph", "x*y", "x=1", "y=2", "--out", "nodir/g.svg")
    assert code == 2 and "cannot write nodir/g.svg" in err and ".tmp" not in err
    code, _, err = run(capsys, "graph", "x*y", "x=1", "y=2", "--out", "g.jpg")
    assert code == 2 and "--out g.jpg" in err and ".svg" in err and "format=" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["explain", "graph"])
def test_an_expression_starting_with_minus_gets_a_hint(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([command, "-x*y", "x=2", "y=3"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: -x*y" in err and f'python -m chainrule {command} -- "-x*y"' in err
    code, out, _ = run(capsys, "explain", "--", "-x*y", "x=2", "y=3")
    assert code == 0 and "= -6" in out
    with pytest.raises(SystemExit):  # "-x*y" alone: argparse reports the expression as missing
        main([command, "-x*y"])
    assert "after '--'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["explain", "graph"])
@pytest.mark.parametrize("argv", [[], ["--mode", "forward"], ["--precision=3"]])
def test_no_dash_hint_when_no_argument_starts_with_a_dash(capsys, command, argv):
    with pytest.raises(SystemExit) as exc:
        main([command, *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "required: expression" in err and "goes after '--'" not in err


def test_graph_out_under_a_file_says_it_is_a_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    for out in ("file/g.svg", "file/sub/g.svg"):
        code, _, err = run(capsys, "graph", "x*y", "x=1", "y=2", "--out", out)
        assert code == 2 and f"cannot write {out}: file is a file, not a folder" in err and "does not exist" not in err
    assert (tmp_path / "file").read_text() == "x"


def test_graph_of_a_flat_product_too_big_to_lay_out_says_to_write_dot(capsys, tmp_path):
    source = "x" + "*x" * 120  # flat, so parsed; x feeds all 120 products: 7,261 places to lay out
    code, _, err = run(capsys, "graph", source, "x=1", "--out", str(tmp_path / "g.svg"))
    assert code == 2 and "would take very long" in err and "--out graph.dot" in err and "max_nodes" not in err
    code, out, _ = run(capsys, "graph", source, "x=1", "--out", str(tmp_path / "g.dot"))
    assert code == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


def test_wrong_argument_counts_are_refused_before_running(capsys):
    for source, words in [("sum(x, x)", "sum() takes 1 argument, got 2"), ("maximum(x)", "takes 2 arguments")]:
        code, _, err = run(capsys, "explain", source, "x=1")
        assert code == 2 and words in err and "tensor(" not in err


def test_argument_names_never_collide_with_variables_or_the_function(capsys):
    code, out, _ = run(capsys, "explain", "f*v2", "f=1", "v2=3")
    assert code == 0 and "∂f/∂f" not in out
    assert "u1 = f" in out and "∂g/∂f = f\u0304 = u\u03041" in out


def test_an_error_names_the_command_once(capsys):
    assert main(["explain", "x*y", "x=1", "y=2", "--mode", "forward", "--direction", "q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m chainrule explain: error: direction 'q'") and err.count("explain:") == 1
