"""The layers contract in pyproject.toml (import-linter) holds: every import, even inside a function, points down."""

import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# lint_imports prints its report and returns 0 when every contract is kept
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def _lint(root):
    """(exit code, report) of import-linter run on the package and the pyproject.toml under ``root``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True, text=True,
                         timeout=300)
    return run.returncode, run.stdout + run.stderr


def test_the_layers_contract_is_kept():
    code, report = _lint(ROOT)
    assert "Contracts: 1 kept, 0 broken." in report and code == 0, report


def test_an_upward_import_inside_a_function_breaks_the_contract(tmp_path):
    # the test above can fail: the same contract on a copy of the package whose core reaches up into nn
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "chainrule", tmp_path / "chainrule", ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "chainrule" / "core" / "state.py", "a", encoding="utf-8") as f:
        f.write("\n\ndef _upward():\n    from ..nn import Module\n\n    return Module\n")
    code, report = _lint(tmp_path)
    assert code != 0 and "chainrule.core is not allowed to import chainrule.nn" in report, report
