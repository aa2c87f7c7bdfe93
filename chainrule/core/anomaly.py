"""Anomaly mode's engine side: where each node's forward ran, and the check of backward's values for NaN/inf."""

from __future__ import annotations

import os
import sys
import threading
import weakref

import numpy as np

__all__ = ["ANOMALY", "check_finite", "forward_site", "record_site"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _Anomaly:
    """``on``: a count of open ``detect_anomaly`` blocks (the sweep reads it once per pass).
    ``sites``: {node: "file:line"} for nodes created while one was open, weakly keyed so that the
    record never keeps a graph alive."""

    def __init__(self):
        self.on = 0
        self.lock = threading.Lock()
        self.sites = weakref.WeakKeyDictionary()


ANOMALY = _Anomaly()


def _user_frame():
    """The innermost frame outside the chainrule package: the line of user code that ran the operation."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        f = f.f_back
    return f


def record_site(application):
    """A ``tracing`` hook: remember where the user's code created ``application.node``."""
    node = application.node
    if node is None:
        return
    f = _user_frame()
    if f is not None:
        ANOMALY.sites[node] = f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"


def forward_site(node):
    """Where ``node``'s forward ran, or a note that it was created outside anomaly mode."""
    return ANOMALY.sites.get(node, "(not recorded: the operation ran outside cr.autograd.detect_anomaly())")


def check_finite(node, i, g):
    """Raise if the contribution ``g`` that ``node``'s rule sends to its input ``i`` holds a NaN or an inf."""
    data = getattr(g, "data", g)
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "fc":
        data = np.asarray(data)
        if data.dtype.kind not in "fc":
            return
    if np.isfinite(data).all():
        return
    what = "nan" if np.isnan(data).any() else "inf"
    raise RuntimeError(
        f"detect_anomaly: the backward rule of {node.prim.name!r} returned {what} values for its input {i}; "
        f"its forward ran at {forward_site(node)}"
    )
