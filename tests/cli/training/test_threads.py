"""The BLAS thread count is set for training and restored afterwards."""

import pytest

from chainrule.cli.training import threads


def test_blas_threads_are_restored(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    found = threads._blas_thread_setters()
    if found is None:
        pytest.skip("no OpenBLAS thread control in this process")
    _, get = found
    before = get()
    with threads.blas_threads(1):
        assert get() == 1
    assert get() == before
