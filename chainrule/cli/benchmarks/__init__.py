"""The workloads of ``python -m chainrule bench``: one table, each row checked against NumPy by hand, then timed.

``table`` runs them (in the process ``cli/bench.py`` starts with one BLAS thread); ``harness`` holds the
columns, the check and the interleaved timing; ``training``, ``small``, ``jacobians`` and ``memory`` the rows.
Nothing is imported here, so ``python -m chainrule.cli.benchmarks.memory`` runs its module fresh.
"""

__all__ = []
