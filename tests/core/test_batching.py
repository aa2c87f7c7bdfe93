"""Batching rules, primitive by primitive: vmap against a Python loop, jacfwd against jacrev, on every op sample.

The samples are the op families' own tables (tests/ops/samples), so a
new primitive with samples is checked here too; one without a batching rule
runs through the looping fallback (listed by ``fallback_primitives``).
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.batching_rules import fallback_primitives
from chainrule.core.tensor import Tensor
from chainrule.extend import Primitive
from chainrule.ops.indexing import _batch_position
from chainrule.transforms import grad, hessian, jacfwd, jacrev, vmap
from tests.ops.samples import OP_CASES

CASES = OP_CASES
# t[idx] = v rebinds t in place; an unbatched t cannot become batched in place (a Python object
# cannot change class), so writing a batched value into an unbatched Tensor is unsupported.
INPLACE = {"index_update"}


def val(y):
    return np.asarray(y.data if isinstance(y, Tensor) else y)


def _batch(args, seed, n=3):
    rng = np.random.default_rng(seed)
    return [np.stack([a + 0.01 * k * rng.standard_normal(a.shape) for k in range(n)]) for a in args]


def _id(c):
    return str(c)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_vmap_matches_loop(case):
    args = [np.array(a, dtype=np.float64) for a in case.args]
    if not args:
        pytest.skip("no array inputs")
    batch = _batch(args, 0)
    ref = np.stack([val(case.fn(*[Tensor(b[k]) for b in batch])) for k in range(3)])
    got = val(vmap(case.fn)(*[Tensor(b) for b in batch]))
    assert got.shape == ref.shape and np.allclose(got, ref, atol=1e-9, rtol=1e-7, equal_nan=True)
    if len(args) > 1 and case.name not in INPLACE:  # each argument unbatched in turn
        for skip in range(len(args)):
            ins = [args[i] if i == skip else batch[i] for i in range(len(args))]
            axes = tuple(None if i == skip else 0 for i in range(len(args)))
            ref = np.stack([val(case.fn(*[Tensor(x if i == skip else x[k]) for i, x in enumerate(ins)]))
                            for k in range(3)])
            got = val(vmap(case.fn, in_axes=axes)(*[Tensor(x) for x in ins]))
            assert np.allclose(got, ref, atol=1e-9, rtol=1e-7, equal_nan=True), f"argument {skip} unbatched"
    # nested: an outer level on axis 1
    nested = [np.stack([b, b * 1.01], axis=1) for b in batch]
    got = val(vmap(vmap(case.fn), in_axes=1, out_axes=1)(*[Tensor(x) for x in nested]))
    ref = np.stack([np.stack([val(case.fn(*[Tensor(x[i, j]) for x in nested])) for j in range(2)]) for i in range(3)])
    assert np.allclose(got, ref, atol=1e-9, rtol=1e-7, equal_nan=True), "nested vmap"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_jacfwd_matches_jacrev(case):
    args = [np.array(a, dtype=np.float64) for a in case.args]
    y = val(case.fn(*[Tensor(a) for a in args])) if args else None
    if not args or y.dtype.kind != "f":
        pytest.skip("nothing to differentiate")
    nums = tuple(range(len(args)))
    jf = jacfwd(case.fn, argnums=nums)(*[Tensor(a) for a in args])
    jr = jacrev(case.fn, argnums=nums)(*[Tensor(a) for a in args])
    for a, b in zip(jf, jr):
        assert np.allclose(val(a), val(b), atol=1e-8, rtol=1e-6, equal_nan=True)
    if case.order2 and sum(a.size for a in args) <= 12:  # second order: two batching levels at once
        w = np.cos(np.arange(y.size)).reshape(y.shape)
        g = lambda *xs: (case.fn(*xs) * Tensor(w)).sum()
        h1 = hessian(g, argnums=nums)(*[Tensor(a) for a in args])
        h2 = jacrev(jacrev(g, argnums=nums), argnums=nums)(*[Tensor(a) for a in args])
        for r1, r2 in zip(h1, h2):
            for a, b in zip(r1, r2):
                assert np.allclose(val(a), val(b), atol=1e-7, rtol=1e-5, equal_nan=True)


def test_fallback_list():
    # every registered primitive has a batching rule; a new one without runs (correctly, slowly) through
    # the loop: declare its rule (Primitive(..., batch=rule)) and this list stays empty
    try:
        import chainrule.nn  # noqa: F401  (registers the network primitives too)
    except ImportError:
        pass
    assert fallback_primitives() == []


def test_unknown_primitive_uses_the_loop():
    calls = []

    def impl(x):
        calls.append(np.shape(x))
        return np.cumprod(x)

    p = Primitive("cumprod_test", impl, vjp=(lambda g, ans, x: g * 0,), jvp=(lambda t, ans, x: t * 0,),
                  register=False)
    assert p.batch is None
    Z = np.arange(1.0, 7.0).reshape(2, 3)
    out = vmap(p)(Z)
    assert np.allclose(out, np.cumprod(Z, axis=1)) and calls == [(3,), (3,)]
    # the loop's slicing and stacking are primitives too: every transform goes through it
    sq = Primitive("square_test", np.square, vjp=(lambda g, ans, x: 2 * g * x,), jvp=(lambda t, ans, x: 2 * t * x,),
                   register=False)
    f = lambda x: (sq(x) * cr.sin(x)).sum()
    assert np.allclose(vmap(grad(f))(Z), np.stack([grad(f)(z) for z in Z]))
    assert np.allclose(jacfwd(vmap(sq))(Z), jacrev(vmap(sq))(Z))
    assert np.allclose(hessian(f)(Z[1]), jacfwd(jacfwd(f))(Z[1]))


@pytest.mark.parametrize("key", [
    (np.array([0, 1]),),
    (slice(None), np.array([0, 1])),
    (np.array([0, 1]), slice(None), np.array([1, 0])),
    (0, slice(None), np.array([1, 0])),
    (np.array([[0], [1]]), 1, slice(None)),
    (None, 1, slice(0, 2)),
    (True, 0),
])
def test_batch_axis_position_matches_numpy(key):
    x = np.arange(2 * 2 * 3 * 3).reshape(2, 2, 3, 3)[:, :, :, :]
    big = np.stack([x, x + 1000, x + 2000])  # the batch axis holds 0, 1000, 2000
    r = big[(slice(None),) + key]
    p = _batch_position(key)
    moved = np.moveaxis(r, p, 0)
    assert np.array_equal(moved, np.stack([x[key], (x + 1000)[key], (x + 2000)[key]]))


def test_batched_values_refuse_conversion_and_support_setitem():
    def f(x):
        y = x * 1.0
        y[0] = x[1] * 2
        return y

    X = np.arange(6.0).reshape(3, 2)
    assert np.allclose(vmap(f)(X), np.stack([f(cr.tensor(r)).data for r in X]))
    with pytest.raises(TypeError, match="no single concrete value"):
        vmap(lambda x: x.numpy())(X)


def test_neural_network_primitives():
    F = pytest.importorskip("chainrule.nn.functional")
    from chainrule.nn.functional.loss import bce_p

    rng = np.random.default_rng(0)

    def check(fn, *batched, axes=None):
        axes = axes or (0,) * len(batched)
        ref = np.stack([val(fn(*[Tensor(b[i]) for b in batched])) for i in range(batched[0].shape[0])])
        assert np.allclose(val(vmap(fn, in_axes=axes)(*[Tensor(b) for b in batched])), ref, atol=1e-10)

    W, b = Tensor(rng.standard_normal((6, 5))), Tensor(rng.standard_normal(6))
    check(lambda x: F.linear(x, W, b), rng.standard_normal((3, 4, 5)))
    check(lambda w: F.linear(Tensor(np.ones((2, 5))), w, b), rng.standard_normal((3, 6, 5)))  # the loop
    check(lambda p, t: bce_p(p, t), rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4)))
    labels = Tensor(np.array([0, 1, 2, 3]))
    for reduction in ("mean", "sum", "none"):
        check(lambda x, r=reduction: F.cross_entropy(x, labels, reduction=r), rng.standard_normal((3, 4, 5)))
    check(lambda x: F.nll_loss(x, labels), rng.standard_normal((3, 4, 5)))
    K = Tensor(rng.standard_normal((4, 3, 3, 3)))
    images = rng.standard_normal((2, 2, 3, 6, 6))
    check(lambda x: F.max_pool2d(F.conv2d(x, K, padding=1), 3, stride=2, padding=1), images)
    loss = lambda x: F.max_pool2d(F.conv2d(x, K, padding=1), 2).sum()
    per_example = vmap(grad(loss))(images)
    assert np.allclose(per_example, np.stack([grad(loss)(images[i]) for i in range(2)]))
    assert fallback_primitives() == []
