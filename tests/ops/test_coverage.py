"""Every registered primitive is really run by sample cases in the table (tests/ops/samples) and has rules in
both modes (or sits in the nondiff list); the table imports no optional dependency, so none of this skips."""

import os
import subprocess
import sys

import chainrule  # noqa: F401  (declares every primitive)
from chainrule.core.primitive import NONDIFFERENTIABLE, REGISTRY

from tests.ops.harness import executed
from tests.ops.samples import CASES


def test_every_differentiable_primitive_has_samples():
    sampled = {case.name for case in CASES}
    missing = sorted(name for name, prim in REGISTRY.items() if not prim.nondiff and name not in sampled)
    assert not missing, f"primitives without a sample Case in tests/ops/samples: {missing}"


def test_every_case_runs_its_primitive_and_every_primitive_runs():
    # counted by execution (the tracer hook of apply), not by the names the cases carry: a case
    # named "norm" whose input takes a path through abs and sum would otherwise count for norm
    ran = set()
    idle = []
    for case in CASES:
        names = executed(case)
        ran |= names
        if case.name not in names and case.name not in NONDIFFERENTIABLE:
            idle.append(f"{case} ran {sorted(names)}")
    assert not idle, f"cases that never run the primitive they are named after: {idle}"
    never = sorted(name for name, prim in REGISTRY.items() if not prim.nondiff and name not in ran)
    assert not never, f"differentiable primitives that no sample case executes: {never}"


def test_every_differentiable_primitive_has_reverse_and_forward_rules():
    lacking = []
    for name, prim in REGISTRY.items():
        if prim.nondiff:
            continue
        if prim.vjp is None:
            lacking.append(f"{name}: no vjp")
        if prim.jvp is None:
            lacking.append(f"{name}: no jvp")
    assert not lacking, lacking


def test_sample_names_are_registered_primitives():
    unknown = sorted({case.name for case in CASES} - set(REGISTRY))
    assert not unknown, f"Case names that are not primitives: {unknown}"


def test_nondifferentiable_list_is_consistent():
    for name, prim in NONDIFFERENTIABLE.items():
        assert prim.nondiff and REGISTRY[name] is prim


def test_the_sample_table_imports_no_optional_dependency():
    # the checks above must run (not skip) where only chainrule's own dependencies are installed, as in CI
    code = ("import sys\n"
            "for name in ('torch', 'jax'): sys.modules[name] = None  # import fails\n"
            "import tests.ops.samples\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
