"""Rows 1, 2 and 5: one SGD training step (forward, cross-entropy, backward, update) of an MLP and of a CNN.

Every column starts from the same weights (a seeded chainrule model, copied) and the same batch; the
check runs two steps and compares both losses and the updated weights with the step written by hand.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.nn import functional as F

from .harness import Case, Row

__all__ = ["ROWS", "NumpyCNN", "NumpyMLP", "softmax_cross_entropy"]

LR = 0.01
MLP_SIZES = {"full": (784, 512, 512, 10), "quick": (784, 512, 512, 10), "tiny": (12, 16, 8, 10)}
# (batch, channels, side) of the CNN: conv 3×3 1→channels pad 1, ReLU, 2×2 max-pool, linear to 10
CNN_SIZES = {"full": (64, 16, 28), "quick": (64, 16, 28), "tiny": (4, 3, 6)}


def softmax_cross_entropy(z, y):
    """The mean softmax cross-entropy of logits ``z`` against labels ``y``, and its gradient, by hand.

    >>> loss, dz = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(float(loss), 4), dz.shape
    (1.3863, (2, 4))
    """
    n = z.shape[0]
    zs = z - z.max(axis=1, keepdims=True)
    e = np.exp(zs)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = (np.log(s[:, 0]) - zs[rows, y]).mean()
    dz = e / s
    dz[rows, y] -= 1
    dz *= 1.0 / n
    return loss, dz


class NumpyMLP:
    """The MLP's SGD step by hand (weights in PyTorch's (out, in) layout), as benchmarks/bench_mlp.py writes it.

    >>> ref = NumpyMLP([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    >>> round(float(ref.step(np.ones((1, 2), np.float32), np.array([0]))), 4)
    0.6931
    """

    def __init__(self, params):
        self.p = [np.array(a) for a in params]  # W1, b1, W2, b2, ...

    def step(self, x, y):
        acts, pre = [x], []
        n = len(self.p) // 2
        for i in range(n):
            h = acts[-1] @ self.p[2 * i].T
            h += self.p[2 * i + 1]
            pre.append(h)
            acts.append(np.maximum(h, 0) if i < n - 1 else h)
        loss, g = softmax_cross_entropy(acts[-1], y)
        grads = [None] * len(self.p)
        for i in range(n - 1, -1, -1):
            if i < n - 1:
                g = g * (pre[i] > 0)  # ReLU' = 1 where the input is positive
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = g @ self.p[2 * i]
        for p, gr in zip(self.p, grads):
            p -= LR * gr
        return loss


class NumpyCNN:
    """conv 3×3 → ReLU → 2×2 max-pool → linear, forward, backward and SGD by hand (benchmarks/bench_cnn.py)."""

    def __init__(self, params):
        self.p = [np.array(a) for a in params]  # Wc (C,1,3,3), bc, Wl (10, C·S/2·S/2), bl

    @staticmethod
    def im2col(x):
        n, c, h, w = x.shape
        xp = np.zeros((n, c, h + 2, w + 2), dtype=x.dtype)
        xp[:, :, 1:-1, 1:-1] = x
        cols = np.empty((n, c, 3, 3, h, w), dtype=x.dtype)
        for i in range(3):
            for j in range(3):
                cols[:, :, i, j] = xp[:, :, i : i + h, j : j + w]
        return cols.reshape(n, c * 9, h * w)

    def step(self, x, y):
        Wc, bc, Wl, bl = self.p
        n, _, side, _ = x.shape
        ch = Wc.shape[0]
        cols = self.im2col(x)
        conv = (Wc.reshape(ch, 9) @ cols).reshape(n, ch, side, side)
        conv += bc.reshape(ch, 1, 1)
        act = np.maximum(conv, 0)
        v = act.reshape(n, ch, side // 2, 2, side // 2, 2)
        rows = np.maximum(v[..., 0], v[..., 1])
        pooled = np.ascontiguousarray(np.maximum(rows[:, :, :, 0], rows[:, :, :, 1]))
        flat = pooled.reshape(n, -1)
        z = flat @ Wl.T
        z += bl
        loss, dz = softmax_cross_entropy(z, y)
        dWl = dz.T @ flat
        dbl = dz.sum(axis=0)
        dpool = (dz @ Wl).reshape(pooled.shape)
        # NOTE: each window's gradient goes to its first maximum (PyTorch's choice at ties)
        dact = np.empty_like(act)
        dv = dact.reshape(v.shape)
        free = np.ones(pooled.shape, dtype=bool)
        hit = np.empty(pooled.shape, dtype=bool)
        for i in range(2):
            for j in range(2):
                np.equal(v[:, :, :, i, :, j], pooled, out=hit)
                hit &= free
                free ^= hit
                np.multiply(dpool, hit, out=dv[:, :, :, i, :, j])
        dconv = dact * (conv > 0)
        g = dconv.reshape(n, ch, side * side)
        dWc = (g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(Wc.shape)
        dbc = dconv.sum(axis=(0, 2, 3))
        for p, gr in zip(self.p, (dWc, dbc, dWl, dbl)):
            p -= LR * gr
        return loss


def _mlp_model(size):
    sizes = MLP_SIZES[size]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _cnn_model(size):
    _, ch, side = CNN_SIZES[size]
    return nn.Sequential(nn.Conv2d(1, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(ch * (side // 2) ** 2, 10))


def _torch_model(kind, size):
    import torch

    if kind == "mlp":
        sizes = MLP_SIZES[size]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers)
    _, ch, side = CNN_SIZES[size]
    return torch.nn.Sequential(torch.nn.Conv2d(1, ch, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(ch * (side // 2) ** 2, 10))


def _xent(xp, z, y):
    zs = z - xp.max(z, axis=1, keepdims=True)
    return xp.mean(xp.log(xp.sum(xp.exp(zs), axis=1)) - zs[np.arange(z.shape[0]), y])


def _mlp_loss(xp, conv, params, x, y):
    n = len(params) // 2
    h = x
    for i in range(n):
        h = h @ params[2 * i].T + params[2 * i + 1]
        if i < n - 1:
            h = xp.maximum(h, 0)
    return _xent(xp, h, y)


def _cnn_loss(xp, conv, params, x, y):
    Wc, bc, Wl, bl = params
    n, _, side, _ = x.shape
    ch = Wc.shape[0]
    act = xp.maximum(conv(x, Wc) + xp.reshape(bc, (1, ch, 1, 1)), 0)
    pooled = xp.max(xp.reshape(act, (n, ch, side // 2, 2, side // 2, 2)), axis=(3, 5))
    return _xent(xp, xp.reshape(pooled, (n, -1)) @ Wl.T + bl, y)


def _autograd_conv(x, W):
    import autograd.numpy as anp

    n, c, h, w = x.shape
    xp = anp.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = anp.stack([xp[:, :, i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=2)
    out = anp.einsum("ok,nkp->nop", anp.reshape(W, (W.shape[0], -1)), anp.reshape(cols, (n, c * 9, h * w)))
    return anp.reshape(out, (n, W.shape[0], h, w))


def _jax_conv(x, W):
    from jax import lax

    return lax.conv_general_dilated(x, W, (1, 1), ((1, 1), (1, 1)))  # NCHW input, OIHW kernel


def _training_row(key, label, kind, batch_of):
    def make_data(size):
        rng = np.random.default_rng(0)
        if kind == "mlp":
            x = rng.random((batch_of(size), MLP_SIZES[size][0]), dtype=np.float32)
        else:
            n, _, side = CNN_SIZES[size]
            x = rng.random((n, 1, side, side), dtype=np.float32)
        return x, rng.integers(0, 10, x.shape[0])

    def build(col, size):
        cr.random.seed(0)
        model = (_mlp_model if kind == "mlp" else _cnn_model)(size)
        weights = [p.data.copy() for p in model.parameters()]
        x, y = make_data(size)
        if col == "numpy":
            ref = (NumpyMLP if kind == "mlp" else NumpyCNN)(weights)
            step = lambda: ref.step(x, y)  # noqa: E731
            return Case({"step": step}, lambda: [step(), step(), *ref.p])
        if col in ("eager", "jit"):
            opt = optim.SGD(model.parameters(), lr=LR)

            def train_step(xt, yt):
                opt.zero_grad()
                loss = F.cross_entropy(model(xt), yt)
                loss.backward()
                opt.step()
                return loss

            fn = cr.jit(train_step) if col == "jit" else train_step
            xt = cr.tensor(x)
            step = lambda: fn(xt, y)  # noqa: E731
            return Case({"step": step}, lambda: [step(), step(), *(p.data for p in model.parameters())])
        if col == "torch":
            import torch

            net = _torch_model(kind, size)
            with torch.no_grad():
                for p, w in zip(net.parameters(), weights):
                    p.copy_(torch.from_numpy(w))
            opt = torch.optim.SGD(net.parameters(), lr=LR)
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)

            def step():
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(xt), yt)
                loss.backward()
                opt.step()
                return loss

            return Case({"step": step}, lambda: [step(), step(), *net.parameters()])
        loss_fn = _mlp_loss if kind == "mlp" else _cnn_loss
        if col == "jax":
            import jax
            import jax.numpy as jnp

            def jax_step(params, xb, yb):
                loss, grads = jax.value_and_grad(lambda p: loss_fn(jnp, _jax_conv, p, xb, yb))(params)
                return loss, [p - LR * g for p, g in zip(params, grads)]

            jitted = jax.jit(jax_step)
            state = [[jnp.asarray(w) for w in weights]]
            xj, yj = jnp.asarray(x), jnp.asarray(y)

            def step():
                loss, state[0] = jitted(state[0], xj, yj)
                return loss.block_until_ready()

            return Case({"step": step}, lambda: [step(), step(), *state[0]])
        if col == "autograd":
            import autograd
            import autograd.numpy as anp

            value_and_grad = autograd.value_and_grad(lambda p: loss_fn(anp, _autograd_conv, p, x, y))
            params = [w.copy() for w in weights]

            def step():
                loss, grads = value_and_grad(params)
                for p, g in zip(params, grads):
                    p -= LR * g
                return loss

            return Case({"step": step}, lambda: [step(), step(), *params])
        return None

    return Row(key, label, "ratio", build, rtol=1e-4, atol=1e-5)


ROWS = [
    _training_row("mlp128", "MLP 784-512-512-10 SGD step, batch 128, f32", "mlp",
                  lambda size: 4 if size == "tiny" else 128),
    _training_row("mlp1", "same, batch 1", "mlp", lambda size: 1),
    _training_row("cnn", "CNN step (conv 3×3 1→16, pool, linear), batch 64", "cnn", None),
]
