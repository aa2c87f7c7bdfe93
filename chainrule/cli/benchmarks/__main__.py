"""``python -m chainrule.cli.benchmarks``: the speed table (``chainrule bench`` sets one BLAS thread first)."""

import sys

from .table import main

__all__ = []

if __name__ == "__main__":
    sys.exit(main())
