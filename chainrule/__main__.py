"""Entry point for ``python -m chainrule``."""

import sys

from .cli import main

__all__ = []  # only the entry point

if __name__ == "__main__":
    sys.exit(main())
