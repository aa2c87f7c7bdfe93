"""Complex numbers with PyTorch's convention: z.grad = ∂L/∂Re z + i ∂L/∂Im z for a real loss L."""

import pytest

from tests.ops.harness import check_case
from tests.ops.samples.complex_numbers import CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)
