"""Shared test set-up: make ``tests`` importable as a package root for helpers like ``tests.ops.harness``."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
