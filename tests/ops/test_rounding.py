"""Sample table for the piecewise-constant operations and the remainders (tests/ops/samples/rounding.py)."""

import pytest

from tests.ops.harness import check_case
from tests.ops.samples.rounding import CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)
