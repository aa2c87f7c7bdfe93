"""The BLAS thread count while training: one thread is fastest for these small models."""

from __future__ import annotations

import contextlib
import ctypes
import os

__all__ = ["blas_threads"]

_BLAS_THREADS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                 "openblas_set_num_threads64_")


def _blas_thread_setters():
    """(set, get) for the OpenBLAS that NumPy loaded, found among the process's libraries; None if unknown."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_THREADS:
            setter = getattr(lib, name, None)
            getter = getattr(lib, name.replace("set_", "get_"), None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                return setter, getter
    return None


@contextlib.contextmanager
def blas_threads(n):
    """Run with ``n`` BLAS threads when the BLAS can be told (OpenBLAS on Linux); the user's env vars win.

    Multi-threaded BLAS on matrices this small spends its time synchronising,
    and on a loaded 2-core machine it measured up to 9x slower than one thread.
    """
    found = None
    if not (os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")):
        found = _blas_thread_setters()
    if found is None:
        yield
        return
    setter, getter = found
    before = getter()
    setter(ctypes.c_int(n))
    try:
        yield
    finally:
        setter(ctypes.c_int(before))
