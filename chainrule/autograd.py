"""``cr.autograd``: ``grad`` (gradients of chosen outputs with respect to chosen inputs, returned: PyTorch's core
call), ``backward`` and ``detect_anomaly``."""

from contextlib import contextmanager

from .core.anomaly import ANOMALY, record_site
from .core.backward import backward, grad_of as grad
from .core.primitive import tracing

__all__ = ["grad", "backward", "detect_anomaly"]


@contextmanager
def detect_anomaly(check_nan=True):
    """Inside the block a NaN or inf produced in backward raises ``RuntimeError`` naming the operation whose
    rule produced it and the file and line of the user's code where its forward ran.

    Only while the block is open is each operation's source line recorded (a tracing hook), so the tape
    costs what it always does outside it. ``check_nan=False`` records nothing and checks nothing.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> with cr.autograd.detect_anomaly(), np.errstate(divide="ignore"):
    ...     y = cr.sqrt(x).sum()
    ...     try:
    ...         y.backward()
    ...     except RuntimeError as e:
    ...         print(str(e).split(";")[0])
    detect_anomaly: the backward rule of 'sqrt' returned inf values for its input 0
    """
    if not check_nan:
        yield
        return
    with ANOMALY.lock:
        ANOMALY.on += 1
    try:
        with tracing(record_site):
            yield
    finally:
        with ANOMALY.lock:
            ANOMALY.on -= 1
