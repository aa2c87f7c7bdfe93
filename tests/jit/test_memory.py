"""cr.jit frees what a trace made as soon as the trace ends, with no help from the cycle collector."""

import gc
import weakref

import numpy as np

import chainrule as cr
from chainrule.jit import recorder


def test_the_recorder_and_the_traces_arrays_are_freed_without_gc(monkeypatch):
    # Tensors made during the trace hold traced arrays, which point back at the recorder that keeps those
    # Tensors: a cycle, so every intermediate of the trace lived on until a full collection.
    made = []
    init = recorder.Recorder.__init__

    def remember(self):
        init(self)
        made.append(weakref.ref(self))

    monkeypatch.setattr(recorder.Recorder, "__init__", remember)
    w = cr.tensor(np.ones((50, 50)), requires_grad=True)

    def step(x):
        w.grad = None
        loss = (cr.tanh(x @ w) ** 2).sum()
        loss.backward()
        return loss

    j = cr.jit(step)
    enabled = gc.isenabled()
    gc.disable()
    try:
        j(np.ones((4, 50)))
        try:
            cr.jit(lambda x: x * float(x.sum()))(np.ones(3))  # a trace that raises
        except cr.ConcretizationError:
            pass
        assert len(made) == 2 and all(r() is None for r in made)
    finally:
        if enabled:
            gc.enable()
    np.testing.assert_array_equal(j(np.ones((4, 50))).data, step(np.ones((4, 50))).data)
