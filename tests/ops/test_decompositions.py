"""Decomposition rules (eigh, svd, cholesky, qr, slogdet, pinv) from their samples, and their conventions."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from tests.ops.harness import check_case
from tests.ops.samples.decompositions import CASES, sym

LA = cr.linalg


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)
