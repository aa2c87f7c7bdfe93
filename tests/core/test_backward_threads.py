"""Concurrent backward passes into shared parameters lose no update (core/backward.py's leaf accumulation)."""

import sys
import threading

import numpy as np

import chainrule as cr


def test_four_threads_accumulating_into_one_parameter_lose_nothing():
    w = cr.tensor(np.ones(4), requires_grad=True)
    steps, start = 1000, threading.Barrier(4)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(steps):
                (w * 2.0).sum().backward()  # adds 2 to every entry of w.grad
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: a lost update shows at once
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    np.testing.assert_array_equal(w.grad.data, np.full(4, 2.0 * 4 * steps))
