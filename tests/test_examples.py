"""Every script in examples/ runs to completion in its quick mode."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = {
    "edf_mlp.py": "final test accuracy",
    "logistic_regression.py": "SGD(weight_decay=2λ): True",
    "per_example_gradients.py": "per-example mean equals the batch gradient: True",
    "rnn_sequence.py": "nn.RNN agrees with the hand-written cell: True",
    "transformer_reverse.py": "held-out token accuracy",
}


def test_every_example_is_covered():
    scripts = sorted(f for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py"))
    assert set(EXAMPLES) <= set(scripts)


@pytest.mark.parametrize("script", sorted(EXAMPLES))
def test_example_runs(script):
    path = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    env = dict(os.environ, PYTHONPATH=path, PYTHONIOENCODING="utf-8")
    cmd = [sys.executable, os.path.join(ROOT, "examples", script), "--quick"]
    proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert EXAMPLES[script] in proc.stdout
