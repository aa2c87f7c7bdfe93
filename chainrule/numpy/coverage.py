"""How much of NumPy differentiates: every function of ``numpy``, ``numpy.linalg`` and ``numpy.fft``, probed.

Each function NumPy routes through its protocols is called on small Tensors that require grad (a 3×3
matrix, a second one, a vector, a list of two matrices, ...) while a recording hook notes the primitives
it runs. What the call returns says the status:

- ``differentiable``: a Tensor on the graph; reverse, forward and batched say whether every primitive it
  ran has a reverse rule, a forward rule and a batching rule;
- ``zero derivative``: it ran chainrule primitives but its result is off the graph: a discrete result
  (comparisons, rounding, indices, integers), whose derivative is 0 or does not exist;
- ``values only``: facts about the data (shapes, booleans, indices, text) computed on the values;
- ``creation``: builds arrays from no array input; ``chainrule.numpy`` answers it with Tensors;
- ``not supported``: raises on a Tensor, naming the function (``TypeError``: no derivative rule yet),
  or none of the probes' argument lists fits it;
- ``not an array function``: printing, configuration, file and type utilities, never called on Tensors.

Run as a script, the module prints docs/numpy-coverage.md; a test checks that the file is current.

>>> rows = {r.name: r for r in coverage_rows(["tanh", "argmax"])}
>>> rows["np.tanh"].status, rows["np.tanh"].reverse, rows["np.argmax"].status
('differentiable', True, 'zero derivative')
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import NamedTuple

import numpy as np

from ..core.primitive import tracing
from ..core.tensor import Tensor
from . import _CREATION, dispatch  # _CREATION: what chainrule.numpy answers with Tensors

__all__ = ["Row", "coverage_rows", "coverage_markdown", "NAMESPACES"]

NAMESPACES = (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft))
STATUSES = ("differentiable", "zero derivative", "values only", "creation", "not supported", "not an array function")


class Row(NamedTuple):
    name: str
    status: str
    reverse: bool = False
    forward: bool = False
    batched: bool = False
    reason: str = ""


def _names(module):
    out = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if isinstance(obj, np.ufunc) or (callable(obj) and not isinstance(obj, type) and hasattr(obj, "__name__")):
            out.append(name)
    return out


def _tensor(a):
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def _candidates():
    """Argument lists to try, most common first, built afresh for each call (a call may write into them)."""
    m = [[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.8]]  # symmetric positive definite, entries > 0
    n = [[0.6, 0.2, 0.4], [0.3, 0.7, 0.5], [0.2, 0.1, 0.9]]
    v = [0.3, 0.5, 0.7]
    yield lambda: (_tensor(m),)
    yield lambda: (_tensor(m), _tensor(n))
    yield lambda: (_tensor(v),)
    yield lambda: (_tensor(m), 1)
    yield lambda: ([_tensor(m), _tensor(n)],)
    yield lambda: (_tensor(m), _tensor(v))
    yield lambda: (_tensor(v), _tensor(v))
    # signatures of their own: a shape, a pair of axes, subscripts, a condition, indices
    yield lambda: (_tensor(m), (9,))
    yield lambda: (_tensor(v), (3, 3))
    yield lambda: (_tensor(m), 0, 1)
    yield lambda: ("ij,jk->ik", _tensor(m), _tensor(n))
    yield lambda: (np.array(m) > 1, _tensor(m), _tensor(n))
    yield lambda: (_tensor(m), np.array([[0, 2, 1]]), 1)
    yield lambda: (_tensor(m), np.array([0, 2]))
    yield lambda: (_tensor(v), 2)
    yield lambda: (Tensor(np.array([1, 2, 3])), Tensor(np.array([3, 1, 2])))  # integers (bitwise operations)
    yield lambda: (Tensor(np.array([1, 2, 3])),)
    yield lambda: (_tensor(np.arange(1.0, 9.0).reshape(2, 2, 2)), 2)  # three axes (dsplit)
    yield lambda: (_tensor(v), np.array([0.0, 0.5, 1.0]), _tensor(v))  # x, xp, fp (interp)


def _dispatched(func):
    return isinstance(func, np.ufunc) or hasattr(func, "_implementation")


def _graph_outputs(out):
    items = out if isinstance(out, (tuple, list)) else (out,)
    tensors = [o for o in items if isinstance(o, Tensor)]
    return tensors, any(t._node is not None for t in tensors)


def _probe(func):
    """``(status, reverse, forward, batched)`` of ``func`` on Tensors: the first argument list that gives a
    result on the graph decides; else the first that runs at all (a result off the graph)."""
    if func in dispatch._PLAIN:
        return "values only", False, False, False
    fallback = None
    refused = None  # chainrule's own refusal, seen on some argument list
    for make in _candidates():
        seen = []
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                with tracing(lambda app, seen=seen: seen.append(app.prim)):
                    out = func(*make())
        except Exception as e:  # noqa: BLE001 - these arguments do not suit it: try the next ones
            if refused is None and "no chainrule derivative rule" in str(e):
                refused = f"raises {type(e).__name__}: no derivative rule"
            continue
        tensors, on_graph = _graph_outputs(out)
        if on_graph:
            prims = [p for p in seen if not p.nondiff]
            return ("differentiable", all(p.vjp is not None for p in prims), all(p.jvp is not None for p in prims),
                    all(p.batch is not None for p in prims))
        # A plain result with no primitive run means NumPy converted the Tensors to arrays itself (a list of
        # Tensors, say): that is not support, whatever it computed.
        if fallback is None and (tensors or seen):
            fallback = "zero derivative"
    if fallback:
        return fallback, False, False, False
    return "not supported", False, False, False, refused or "none of the argument lists the probe tries fits it"


def coverage_rows(names=None):
    """One :class:`Row` per public function of ``numpy``, ``numpy.linalg`` and ``numpy.fft`` (or of ``numpy``
    alone for the given ``names``)."""
    rows = []
    spaces = NAMESPACES if names is None else (("np", np),)
    for prefix, module in spaces:
        for name in names if names is not None else _names(module):
            func = getattr(module, name)
            qualified = f"{prefix}.{name}"
            if not _dispatched(func):
                status = "creation" if prefix == "np" and name in _CREATION else "not an array function"
                rows.append(Row(qualified, status))
                continue
            rows.append(Row(qualified, *_probe(func)))
    return rows


def _mark(flag):
    return "✓" if flag else "–"


def coverage_markdown(rows=None):
    """The table of docs/numpy-coverage.md, with the totals first."""
    rows = coverage_rows() if rows is None else rows
    counts = {s: sum(r.status == s for r in rows) for s in STATUSES}
    full = sum(r.status == "differentiable" and r.reverse and r.forward and r.batched for r in rows)
    lines = [
        "# NumPy coverage",
        "",
        f"Every public function of `numpy`, `numpy.linalg` and `numpy.fft` (NumPy {np.__version__}), called on",
        "Tensors that require grad, as `chainrule.numpy.coverage` probes it (see that module for the method).",
        "Generated by the module `chainrule.numpy.coverage` run as a script (its output is this file);",
        "a test checks that it is current.",
        "",
        "| status | functions |",
        "| --- | --- |",
    ]
    lines += [f"| {s} | {counts[s]} |" for s in STATUSES]
    lines += [f"| **total** | {len(rows)} |", "",
              f"Of the {counts['differentiable']} differentiable functions, {full} work in reverse mode, forward mode "
              "and under `vmap` alike.", "",
              "| function | status | reverse | forward | vmap |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        if r.status == "differentiable":
            lines.append(f"| `{r.name}` | {r.status} | {_mark(r.reverse)} | {_mark(r.forward)} | {_mark(r.batched)} |")
        else:
            lines.append(f"| `{r.name}` | {r.status}{': ' + r.reason if r.reason else ''} | | | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(coverage_markdown(), end="")
