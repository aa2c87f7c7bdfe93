"""Shared test set-up: make ``tests`` importable as a package root for helpers like ``tests.ops.harness``."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# The coverage checks (every primitive has samples and rules, every sample runs its primitive) are the
# safety net of the rule table: CI's log names each with its outcome, so a skip cannot pass unseen.
_NAMED_IN_SUMMARY = "tests/ops/test_coverage.py::"


def pytest_terminal_summary(terminalreporter):
    lines = []
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if nodeid.startswith(_NAMED_IN_SUMMARY) and (report.when == "call" or outcome != "passed"):
                lines.append(f"{outcome.upper()} {nodeid}")
    if lines:
        terminalreporter.section("coverage checks")
        for line in sorted(lines):
            terminalreporter.write_line(line)


def pytest_configure(config):
    # The library's own code must never drop a graph through NumPy's conversion: the warning fails the test
    # (tests of the warning itself catch it with pytest.warns).
    config.addinivalue_line("filterwarnings", "error::chainrule.core.concrete.GraphDropWarning")
