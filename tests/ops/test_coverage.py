"""Every registered primitive is really run by sample cases in the tables and has rules in both modes (or sits
in the nondiff list)."""

import importlib
import pkgutil

import chainrule  # noqa: F401  (declares every primitive)
from chainrule.core.primitive import NONDIFFERENTIABLE, REGISTRY

import tests.nn as nn_tests
import tests.ops as ops_tests
from tests.ops.harness import executed


def _all_cases():
    """Every sample Case in the op tables (tests/ops) and the nn primitive table (tests/nn)."""
    cases = []
    for package in (ops_tests, nn_tests):
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("test_"):
                module = importlib.import_module(f"{package.__name__}.{info.name}")
                cases.extend(getattr(module, "CASES", []))
    return cases


def test_every_differentiable_primitive_has_samples():
    sampled = {case.name for case in _all_cases()}
    missing = sorted(name for name, prim in REGISTRY.items() if not prim.nondiff and name not in sampled)
    assert not missing, f"primitives without a sample Case in tests/ops: {missing}"


def test_every_case_runs_its_primitive_and_every_primitive_runs():
    # counted by execution (the tracer hook of apply), not by the names the cases carry: a case
    # named "norm" whose input takes a path through abs and sum would otherwise count for norm
    ran = set()
    idle = []
    for case in _all_cases():
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
    unknown = sorted({case.name for case in _all_cases()} - set(REGISTRY))
    assert not unknown, f"Case names that are not primitives: {unknown}"


def test_nondifferentiable_list_is_consistent():
    for name, prim in NONDIFFERENTIABLE.items():
        assert prim.nondiff and REGISTRY[name] is prim
