"""The in-place writes log: refusals, pruning, threads."""

import threading
import time

import numpy as np

import chainrule as cr
from chainrule.core import writes


def test_pruning_keeps_writes_cheap_with_many_live_arrays():
    arrays = [np.zeros(2) for _ in range(9000)]  # alive: never pruned
    t0 = time.perf_counter()
    for a in arrays:
        writes.note_write(a)
    for a in arrays:
        writes.note_write(a)
    assert time.perf_counter() - t0 < 2.0  # quadratic pruning took minutes here
    assert all(id(a) in writes.WRITES for a in arrays)
    del arrays
    for _ in range(10000):
        writes.note_write(np.zeros(1))  # dead entries are pruned as the log grows
    assert len(writes.WRITES) < 40000


def test_writes_from_several_threads():
    errors = []

    def work():
        try:
            for _ in range(3000):
                t = cr.tensor(np.zeros(3))
                t += 1.0
        except Exception as e:  # noqa: BLE001 - the test reports whatever a thread raised
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
