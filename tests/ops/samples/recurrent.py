"""Sample cases of the fused recurrent primitives (lstm_scan, gru_scan, rnn_scan): both directions, bias or none.

Small sizes: the harness checks every output block (gate activations and cell states included)
by central differences, forward mode, second order (through the step-by-step rules) and float32.
"""

import numpy as np

import chainrule as cr
from chainrule.nn.functional import recurrent as R
from tests.ops.harness import Case

rng = np.random.default_rng(7)


def r(*shape, scale=0.6):
    return rng.standard_normal(shape) * scale


def _ref(ref, inputs, **kw):
    # the references take b_hh positionally: a case without bias passes None
    def call(*arrays):
        tensors = [cr.tensor(a) for a in arrays]
        return ref(*tensors, *([None] * (inputs - len(tensors))), **kw).data
    return call


def _cases():
    steps, n, i, h = 3, 2, 2, 2
    out = []
    for reverse in (False, True):
        label = "reverse" if reverse else "forward"
        out.append(Case("lstm_scan", lambda *a, rv=reverse: R.lstm_scan_p(*a, reverse=rv),
                        (r(steps, n, i), r(n, h), r(n, h), r(4 * h, i), r(4 * h, h), r(4 * h), r(4 * h)),
                        _ref(R._lstm_ref, 7, reverse=reverse), label=label))
        out.append(Case("gru_scan", lambda *a, rv=reverse: R.gru_scan_p(*a, reverse=rv),
                        (r(steps, n, i), r(n, h), r(3 * h, i), r(3 * h, h), r(3 * h), r(3 * h)),
                        _ref(R._gru_ref, 6, reverse=reverse), label=label))
        out.append(Case("rnn_scan", lambda *a, rv=reverse: R.rnn_scan_p(*a, reverse=rv),
                        (r(steps, n, i), r(n, h), r(h, i), r(h, h), r(h), r(h)), _ref(R._rnn_ref, 6, reverse=reverse),
                        label=label))
    out.append(Case("lstm_scan", lambda x, h0, c0, wi, wh: R.lstm_scan_p(x, h0, c0, wi, wh, None, None),
                    (r(2, 1, 3), r(1, h), r(1, h), r(4 * h, 3), r(4 * h, h)), _ref(R._lstm_ref, 7), label="no bias"))
    out.append(Case("gru_scan", lambda x, h0, wi, wh: R.gru_scan_p(x, h0, wi, wh, None, None),
                    (r(2, 1, 3), r(1, h), r(3 * h, 3), r(3 * h, h)), _ref(R._gru_ref, 6), label="no bias"))
    # relu away from its kink: every pre-activation positive or clearly negative (W_ih = I: x is the projection)
    x = np.array([[[0.9, -0.8]], [[0.7, 1.1]], [[-0.9, 0.6]]])
    out.append(Case("rnn_scan", lambda x, h0, wi, wh: R.rnn_scan_p(x, h0, wi, wh, None, None, nonlinearity="relu"),
                    (x, np.array([[0.2, 0.1]]), np.eye(2), np.array([[0.3, -0.2], [0.1, 0.25]])),
                    _ref(R._rnn_ref, 6, nonlinearity="relu"), label="relu"))
    return out


CASES = _cases()
