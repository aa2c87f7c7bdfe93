"""Sample cases of the nn primitives, read by tests/nn/test_primitives.py, the vmap tests and the coverage test."""

import numpy as np

from chainrule.nn.functional import conv as C
from chainrule.nn.functional import loss as L
from chainrule.nn.functional import pooling as P
from chainrule.nn.functional.linear import linear_p
from tests.ops.harness import Case

rng = np.random.default_rng(1)


def r(*shape):
    return rng.standard_normal(shape)


def _pool_input(shape, ties=False):
    """Distinct values (finite differences must not cross a tie) unless ``ties``."""
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.37 + 0.1
    return np.where(x > np.median(x), x, 0.0) if ties else x


def _im2col_ref(x, k, s, p, d=1):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    span = d * (k - 1) + 1
    oh, ow = (h + 2 * p - span) // s + 1, (w + 2 * p - span) // s + 1
    out = np.zeros((n, c, k, k, oh, ow))
    for i in range(k):
        for j in range(k):
            for a in range(oh):
                for b in range(ow):
                    out[:, :, i, j, a, b] = xp[:, :, a * s + i * d, b * s + j * d]
    return out.reshape(n, c * k * k, oh * ow)


def _pool_ref(x, k, s, p):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.empty((n, c, oh, ow))
    for a in range(oh):
        for b in range(ow):
            out[:, :, a, b] = xp[:, :, a * s : a * s + k, b * s : b * s + k].max(axis=(2, 3))
    return out


def _static(shape, k, s, p, d=1):
    return C._static(shape, (k, k), s, p, "test", d)


def _im2col_case(shape, k, s, p, d=1):
    st = _static(shape, k, s, p, d)
    return Case("im2col", lambda x: C.im2col_p(x, **st), (r(*shape),), lambda x: _im2col_ref(x, k, s, p, d),
                label=f"{shape} k{k} s{s} p{p} d{d}")


def _col2im_case(shape, k, s, p, d=1):
    st = _static(shape, k, s, p, d)
    n, c, h, w = shape
    span = d * (k - 1) + 1
    oh, ow = (h + 2 * p - span) // s + 1, (w + 2 * p - span) // s + 1
    cols = r(n, c * k * k, oh * ow)

    def ref(cols):  # the adjoint of im2col, through its matrix
        eye = np.eye(np.prod(shape)).reshape((-1,) + shape)
        m = np.stack([_im2col_ref(e[None][0], k, s, p, d).reshape(-1) for e in eye], axis=1)
        return (m.T @ cols.reshape(-1)).reshape(shape)

    return Case("col2im", lambda g: C.col2im_p(g, **st), (cols,), ref, label=f"{shape} k{k} s{s} p{p} d{d}")


def _pool_kw(k, s, p):
    return {"kernel": (k, k), "stride": (s, s), "padding": ((p, p), (p, p))}


def _pool_case(shape, k, s, p):
    kw = _pool_kw(k, s, p)
    return Case("max_pool2d", lambda x: P.max_pool2d_p(x, **kw), (_pool_input(shape),),
                lambda x: _pool_ref(x, k, s, p), label=f"{shape} k{k} s{s} p{p}")


def _scatter_case(shape, k, s, p, ties):
    kw = _pool_kw(k, s, p)
    x = _pool_input(shape, ties)
    out = P._max_pool(x, **kw)
    return Case("max_pool2d_scatter", lambda g: P.max_pool2d_scatter_p(g, x, out, **kw), (r(*out.shape),),
                label=f"{shape} k{k} s{s} p{p} ties={ties}")


def _gather_case(shape, k, s, p):
    kw = _pool_kw(k, s, p)
    x = _pool_input(shape, True)
    out = P._max_pool(x, **kw)
    return Case("max_pool2d_gather", lambda y: P.max_pool2d_gather_p(y, x, out, **kw), (r(*shape),),
                label=f"{shape} k{k} s{s} p{p}")


def _xent_ref(x, t, w, factor, reduce):
    lse = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1)
    loss = (lse - x[np.arange(len(t)), t]) * (1 if w is None else w) * factor
    return loss.sum() if reduce else loss


def _xent_case(n, c, weighted, reduce, label):
    t = rng.integers(0, c, n)
    w = rng.random(n) + 0.5 if weighted else None
    factor = 1.0 / n if reduce else 1.0
    return Case("cross_entropy", lambda x: L.cross_entropy_p(x, t, w, factor=factor, reduce=reduce), (r(n, c) * 3,),
                lambda x: _xent_ref(x, t, w, factor, reduce), label=label)


def _nll_case(n, c, reduce):
    t = rng.integers(0, c, n)
    w = rng.random(n) + 0.5
    return Case("nll_loss", lambda x: L.nll_loss_p(x, t, w, factor=0.5, reduce=reduce), (r(n, c),),
                lambda x: (-x[np.arange(n), t] * w * 0.5).sum() if reduce else -x[np.arange(n), t] * w * 0.5,
                label=f"reduce={reduce}")


def _bce_ref(p, t):
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


CASES = [
    Case("linear", lambda x, w, b: linear_p(x, w, b), (r(4, 3), r(5, 3), r(5)), lambda x, w, b: x @ w.T + b,
         label="batch"),
    Case("linear", lambda x, w, b: linear_p(x, w, b), (r(3), r(2, 3), r(2)), lambda x, w, b: w @ x + b,
         label="1-d input"),
    Case("linear", lambda x, w, b: linear_p(x, w, b), (r(2, 3, 4), r(5, 4), r(5)), lambda x, w, b: x @ w.T + b,
         label="3-d input"),
    Case("linear", lambda x, w, b: linear_p(x, w, b), (r(1, 3), r(2, 3), r(2)), lambda x, w, b: x @ w.T + b,
         label="batch of one"),
    Case("linear", lambda x, w: linear_p(x, w, None), (r(4, 3), r(2, 3)), lambda x, w: x @ w.T, label="no bias"),
    _im2col_case((2, 2, 4, 4), 3, 1, 0),
    _im2col_case((1, 2, 5, 4), 3, 2, 1),
    _im2col_case((2, 1, 3, 3), 1, 1, 0),
    _col2im_case((1, 2, 4, 4), 3, 1, 1),
    _col2im_case((1, 1, 5, 5), 2, 2, 0),
    _im2col_case((1, 2, 7, 6), 3, 2, 1, 2),
    _im2col_case((2, 1, 5, 5), 2, 1, 0, 3),
    _col2im_case((1, 1, 6, 6), 2, 2, 1, 2),
    _pool_case((2, 2, 4, 4), 2, 2, 0),
    _pool_case((1, 2, 6, 4), 3, 3, 0),
    _pool_case((1, 1, 5, 5), 3, 2, 1),
    _pool_case((1, 2, 5, 4), 2, 1, 0),
    _scatter_case((2, 2, 4, 4), 2, 2, 0, False),
    _scatter_case((1, 2, 4, 4), 2, 2, 0, True),
    _scatter_case((1, 1, 5, 5), 3, 2, 1, True),
    _gather_case((1, 2, 4, 4), 2, 2, 0),
    _gather_case((1, 1, 5, 5), 3, 2, 1),
    _xent_case(5, 4, False, True, "mean"),
    _xent_case(5, 4, True, True, "weighted sum"),
    _xent_case(3, 6, False, False, "none"),
    _nll_case(4, 3, True),
    _nll_case(4, 3, False),
    Case("binary_cross_entropy", L.bce_p, (rng.uniform(0.05, 0.95, (3, 2)), rng.uniform(0, 1, (3, 2))), _bce_ref,
         label="probabilities and soft targets"),
]

from tests.ops.samples.recurrent import CASES as _RECURRENT  # noqa: E402

CASES += _RECURRENT
