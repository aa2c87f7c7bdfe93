"""cr.jit: replays equal eager, retracing, the cache, concretization, randomness, effects and buffers."""

import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.core.tensor import Tensor


def test_replay_equals_eager_and_skips_the_tape():
    f = cr.jit(lambda x, y: cr.tanh(x @ y).sum(axis=0) * 3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x, y = rng.standard_normal((4, 5)), rng.standard_normal((5, 2))
        np.testing.assert_array_equal(f(x, y), np.tanh(x @ y).sum(axis=0) * 3)
    assert f.traces == 1
    out = f(cr.tensor(x), cr.tensor(y))  # Tensors are another signature: a Tensor comes back
    assert isinstance(out, Tensor) and out.grad_fn is None and f.traces == 2


def test_shape_dtype_and_static_arguments_retrace():
    f = cr.jit(lambda x, n: x * n, static_argnums=1)
    f(np.ones(3), 2)
    f(np.ones(3), 2)
    assert f.traces == 1
    f(np.ones(4), 2)
    f(np.ones(3, dtype=np.float32), 2)
    np.testing.assert_array_equal(f(np.ones(3), 5), [5.0, 5.0, 5.0])
    assert f.traces == 4


def test_the_cache_is_bounded_and_frequent_retracing_warns():
    f = cr.jit(lambda x: x + 1, max_cache=3, warn_after=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 7):
            f(np.zeros(n))
    assert len(f.cache) == 3
    assert [w.category for w in caught] == [cr.RetraceWarning]
    f(np.zeros(1))  # evicted: traced again
    assert f.traces == 7


@pytest.mark.parametrize("body", [
    lambda x: x * float(x.sum()),
    lambda x: x * x.sum().item(),
    lambda x: x if x.sum() > 0 else -x,
    lambda x: print(x),
    lambda x: x * int(x.max()),
    lambda x: x.data.tolist(),
    lambda x: f"{x.data[0]:.3f}",
    lambda x: bytes(x.data),  # raw memory: a replay's values live in other buffers
    lambda x: np.frombuffer(x.data.data, dtype=x.dtype) * 1.0,
    lambda x: x.data.ctypes.data,
])
def test_concretizing_a_traced_value_raises(body):
    f = cr.jit(body)
    with pytest.raises(cr.ConcretizationError, match="traced by cr.jit.*static_argnums"):
        f(cr.tensor([1.0, 2.0]))


def test_shapes_are_static_and_constants_may_be_concrete():
    @cr.jit
    def f(x):
        n = x.shape[0]  # static: fine
        idx = np.arange(n)
        return x[idx[::-1]] * float(np.ones(())) + len(x)

    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [4.0, 3.0])
    np.testing.assert_array_equal(f(np.array([5.0, 7.0])), [9.0, 7.0])


def test_a_result_held_across_calls_is_never_overwritten():
    f = cr.jit(lambda x: cr.exp(cr.sin(x) * 2) + 1)
    a = f(cr.tensor([0.1, 0.2]))
    keep = a.data.copy()
    b = f(cr.tensor([0.3, 0.4]))
    c = f(cr.tensor([0.5, 0.6]))
    np.testing.assert_array_equal(a.data, keep)
    assert not np.shares_memory(b.data, c.data)
    np.testing.assert_array_equal(b.data, np.exp(np.sin([0.3, 0.4]) * 2) + 1)


def test_grad_held_across_calls_is_its_own_array():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    @cr.jit
    def step(x):
        w.grad = None
        (cr.tanh(w * x) ** 2).sum().backward()

    step(np.array([1.0, 1.0]))
    g1 = w.grad
    assert type(g1.data) is np.ndarray
    keep = g1.data.copy()
    step(np.array([3.0, -1.0]))
    g2 = w.grad
    np.testing.assert_array_equal(g1.data, keep)
    assert not np.shares_memory(g1.data, g2.data)
    x = np.array([3.0, -1.0])
    np.testing.assert_allclose(g2.data, 2 * np.tanh(w.data * x) * (1 - np.tanh(w.data * x) ** 2) * x, rtol=1e-15)


def test_grad_accumulates_when_not_zeroed_and_argument_leaves_receive_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    @cr.jit
    def f(x):
        (w * x).sum().backward()

    for _ in range(3):
        f(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(w.grad.data, [3.0, 30.0])  # a None grad and a set one are two traces
    g = cr.jit(lambda x: (x ** 2).sum().backward())
    for v in ([1.0, 2.0], [3.0, 4.0]):
        x = cr.tensor(v, requires_grad=True)
        g(x)
        np.testing.assert_array_equal(x.grad.data, 2 * np.array(v))


def test_in_place_updates_of_state_are_replayed():
    buf = cr.tensor(np.zeros(3))

    @cr.jit
    def f(x):
        buf.data[...] += x  # a load, an in-place add into the live array
        return buf.data.sum()

    for k in range(1, 4):
        assert f(np.ones(3)).item() == 3.0 * k
    np.testing.assert_array_equal(buf.data, [3.0, 3.0, 3.0])
    buf.data = np.full(3, 10.0)  # rebinding between calls is seen too
    assert f(np.ones(3)).item() == 33.0


def test_random_draws_are_fresh_on_each_replay_and_follow_the_seed():
    drop = nn.Dropout(0.5)
    f = cr.jit(lambda x: drop(x))
    x = cr.tensor(np.ones(64))
    masks = [f(x).data.copy() for _ in range(3)]
    assert not np.array_equal(masks[1], masks[2])
    cr.random.seed(7)
    jitted = [f(x).data.copy() for _ in range(2)]
    cr.random.seed(7)
    eager = [drop(x).data.copy() for _ in range(2)]
    np.testing.assert_array_equal(jitted, eager)
    g = cr.jit(lambda: cr.random.randn(3))
    assert not np.array_equal(g().data, g().data)


def test_a_library_check_that_changes_raises():
    f = cr.jit(lambda x, y: F.cross_entropy(x, y))
    x = cr.tensor(np.zeros((2, 3)))
    f(x, cr.tensor(np.array([0, 2])))
    f(x, cr.tensor(np.array([1, 2])))
    with pytest.raises(RuntimeError, match="check inside chainrule"):
        f(x, cr.tensor(np.array([1, 5])))


def test_constants_are_folded_and_dead_code_dropped():
    @cr.jit
    def f(x):
        unused = np.exp(x)  # noqa: F841 - dead
        ones = np.ones_like(x)
        return x + ones * 2

    f(np.zeros(3))
    (prog,) = f.programs()
    assert prog.stats["folded"] >= 2 and "exp" not in prog.source
    np.testing.assert_array_equal(f(np.ones(3)), [3.0, 3.0, 3.0])


def test_transforms_outside_run_eagerly_and_inside_are_traced():
    def f(x):
        return (cr.sin(x) * x).sum()

    x = cr.tensor([0.3, -1.2])
    jf = cr.jit(f)
    np.testing.assert_array_equal(cr.grad(jf)(x).data, cr.grad(f)(x).data)
    np.testing.assert_array_equal(cr.jvp(jf, (x,), (cr.ones_like(x),))[1].data,
                                  cr.jvp(f, (x,), (cr.ones_like(x),))[1].data)
    batch = cr.tensor([[0.3, -1.2], [2.0, 0.5]])
    np.testing.assert_array_equal(cr.vmap(jf)(batch).data, cr.vmap(f)(batch).data)
    assert jf.traces == 0
    for inner in (cr.grad(f), cr.vmap(cr.grad(f)), lambda v: cr.jvp(f, (v,), (cr.ones_like(v),))[1]):
        jg = cr.jit(inner)
        jg(x)
        for v in ([0.1, 0.2], [1.5, -0.7]):
            np.testing.assert_array_equal(jg(cr.tensor(v)).data, inner(cr.tensor(v)).data)
    jv = cr.jit(cr.vmap(cr.grad(f)))
    for b in (batch, batch * 2):
        np.testing.assert_array_equal(jv(b).data, cr.vmap(cr.grad(f))(b).data)
    assert jv.traces == 1


def test_a_caller_tape_runs_eagerly():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2  # on the caller's tape
    f = cr.jit(lambda v: (v ** 2).sum())
    f(y).backward()
    np.testing.assert_array_equal(x.grad.data, [8.0, 16.0])
    assert f.traces == 0


def test_every_ndarray_method_records_or_is_static():
    from chainrule.jit.traced import STATIC_ATTRIBUTES, Traced

    public = {n for n in dir(np.ndarray) if not n.startswith("_")}
    assert public - set(Traced.__dict__) == STATIC_ATTRIBUTES
    methods = {"reshape": ((4,),), "transpose": (), "astype": (np.float32,), "copy": (), "ravel": (), "sum": (),
               "mean": (0,), "max": (), "cumsum": (), "clip": (0.1, 0.5), "argsort": (), "take": ([1, 0],),
               "repeat": (2,), "squeeze": (), "swapaxes": (0, 1), "dot": (np.ones(2),), "round": (1,), "std": ()}

    for name, extra in methods.items():
        f = cr.jit(lambda a, name=name, extra=extra: getattr(a, name)(*extra))
        x = np.array([[0.25, 0.5], [0.75, 1.0]])
        f(x)
        y = np.array([[1.25, -0.5], [0.375, 2.0]])
        np.testing.assert_array_equal(f(y), getattr(y, name)(*extra), err_msg=name)
    g = cr.jit(lambda a: (a.T, a.real, a.mT))
    out = g(np.ones((2, 2)))
    np.testing.assert_array_equal(g(np.eye(2) * 3)[0], np.eye(2) * 3)
    assert len(out) == 3
    for call in (lambda a: a.tobytes(), lambda a: a.flat[0], lambda a: np.array_equal(a, a), lambda a: a.resize(4)):
        with pytest.raises(cr.ConcretizationError):
            cr.jit(call)(np.ones((2, 2)))


def test_plain_numpy_conversions_stay_traced():
    @cr.jit
    def f(x):
        a = np.asarray(x)  # a view of x, still traced
        b = np.array([x[0], x[1]])  # built from traced values
        c = np.zeros(2)
        c[0] = x[1]  # a write into a constant made inside the trace
        return a * 2 + b + c

    f(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(f(np.array([3.0, 5.0])), [3.0 * 2 + 3 + 5, 5.0 * 2 + 5])
    np.testing.assert_array_equal(f(np.array([7.0, 1.0])), [7.0 * 2 + 7 + 1, 1.0 * 2 + 1])


def test_an_error_while_tracing_leaves_everything_as_it_was():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    @cr.jit
    def f(x):
        (w * x).sum().backward()
        raise KeyError("boom")

    with pytest.raises(KeyError):
        f(np.ones(2))
    assert type(w.grad.data) is np.ndarray and type(w.data) is np.ndarray
    assert type(np.asarray(np.ones(2))) is np.ndarray and type(Tensor.__dict__["data"]).__name__ == "member_descriptor"
    assert f.traces == 0 and not f.cache


def test_keywords_pytrees_and_methods():
    class Scaler:
        def __init__(self):
            self.k = 3.0

        @cr.jit
        def __call__(self, pair, *, shift):
            a, b = pair
            return {"sum": a + b * self.k, "shifted": (a - shift, [b * 2])}

    s = Scaler()
    for v in (1.0, 2.0):
        out = s((np.array([v]), cr.tensor([4.0])), shift=np.array([0.5]))
        np.testing.assert_array_equal(out["sum"].data, [v + 12.0])
        np.testing.assert_array_equal(out["shifted"][0], [v - 0.5])
        np.testing.assert_array_equal(out["shifted"][1][0].data, [8.0])
    assert Scaler.__call__.traces == 1


def test_schedulers_and_optimisers_inside_run_every_replay():
    def make():
        w = cr.tensor(np.array([1.0, -1.0, 0.5]), requires_grad=True)
        opt = cr.optim.Adam([w], lr=0.1)
        sched = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)

        def step(x):
            opt.zero_grad()
            loss = ((w * x) ** 2).sum()
            loss.backward()
            opt.step()
            sched.step()
            return loss

        return w, opt, step

    w1, opt1, s1 = make()
    w2, opt2, s2 = make()
    s2 = cr.jit(s2)
    for k in range(5):
        x = np.array([1.0, 2.0, 3.0]) * (k + 1)
        np.testing.assert_array_equal(s1(x).data, s2(x).data)
    np.testing.assert_array_equal(w1.data, w2.data)
    assert opt1.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] == 0.1 * 0.5 ** 5


def test_init_inside_a_jitted_function_draws_each_call():
    w = cr.tensor(np.zeros((3, 2)))

    @cr.jit
    def reset():
        nn.init.uniform_(w, -1.0, 1.0)
        return w.data.sum()

    cr.random.seed(3)
    got = [reset().item() for _ in range(3)]
    cr.random.seed(3)
    want = []
    for _ in range(3):
        nn.init.uniform_(w, -1.0, 1.0)
        want.append(w.data.sum())
    assert got == want and len(set(got)) == 3


def test_numpy_global_random_draws_are_fresh_on_each_replay():
    f = cr.jit(lambda x: x + np.random.rand(3))
    x = np.zeros(3)
    np.random.seed(5)
    got = [f(x) for _ in range(3)]
    np.random.seed(5)
    np.testing.assert_array_equal(got, [np.random.rand(3) for _ in range(3)])


def test_a_constant_written_with_constants_stays_concrete():
    @cr.jit
    def f(x):
        mask = np.zeros(3)
        mask[1] = 1.0
        n = int(mask.sum())  # constant: fine
        mask[2] = x[0]  # now it depends on x
        return x * mask * n

    f(np.array([2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(f(np.array([5.0, 6.0, 7.0])), [0.0, 6.0, 35.0])

    @cr.jit
    def g(x):
        mask = np.zeros(3)
        mask[2] = x[0]
        return int(mask.sum())

    with pytest.raises(cr.ConcretizationError):  # written with a traced value first: no constant
        g(np.ones(3))


def test_other_threads_run_as_usual_while_one_traces():
    import threading

    started, release = threading.Event(), threading.Event()
    seen = {}

    def other():
        started.wait()
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        (w * 3).sum().backward()
        seen["types"] = (type(np.zeros(2)), type(w.grad.data), type(np.asarray(w.data)))
        release.set()

    @cr.jit
    def f(x):
        started.set()
        release.wait(10)
        return x * 2

    t = threading.Thread(target=other)
    t.start()
    f(np.ones(2))
    t.join()
    assert seen["types"] == (np.ndarray, np.ndarray, np.ndarray)


def test_the_cache_drops_the_least_recently_used_and_a_tensor_may_come_twice():
    f = cr.jit(lambda a, b: a * b, max_cache=2)
    one, two, three = np.ones(1), np.ones(2), np.ones(3)
    f(one, one), f(two, two), f(one, one), f(three, three)  # two is the least recently used
    f(one, one)
    assert f.traces == 3
    t = cr.tensor([3.0, 4.0])
    data = t.data
    np.testing.assert_array_equal(f(t, t).data, [9.0, 16.0])
    assert t.data is data


def test_gradient_clipping_inside_runs_every_replay():
    def make():
        cr.random.seed(1)
        model = nn.Linear(3, 2)
        opt = cr.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).sum()
            loss.backward()
            norm = cr.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            opt.step()
            return loss, norm

        return model, step

    m1, s1 = make()
    m2, s2 = make()
    s2 = cr.jit(s2)
    rng = np.random.default_rng(0)
    for k in range(6):  # small and large errors: clipped on some steps, not on others
        x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2)) * (0.1 if k % 2 else 5)
        (l1, n1), (l2, n2) = s1(cr.tensor(x), cr.tensor(y)), s2(cr.tensor(x), cr.tensor(y))
        np.testing.assert_array_equal(l1.data, l2.data)
        np.testing.assert_array_equal(n1.data, n2.data)
    np.testing.assert_array_equal(m1.weight.data, m2.weight.data)
    assert s2.traces == 1


@pytest.mark.parametrize("transform", ["hessian", "jacfwd", "jacrev", "value_and_grad"])
def test_higher_order_and_functional_transforms_inside(transform):
    f = (lambda x: cr.sum(cr.sin(x) * x ** 2)) if transform in ("hessian", "value_and_grad") else (
        lambda x: cr.sin(x) * x)
    h = getattr(cr, transform)(f)
    j = cr.jit(h)
    for v in ([0.1, 0.2, 0.3], [1.0, -2.0, 0.5], [3.0, 1.0, 2.0]):
        a, b = j(np.array(v)), h(np.array(v))
        for p, q in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            np.testing.assert_array_equal(np.asarray(p), np.asarray(q))
    assert j.traces == 1


def test_no_text_from_the_program_reaches_the_generated_source():
    # The replay is compiled Python; strings (einsum subscripts, keyword values, dictionary keys) must be
    # reached by name, never written into that source.
    marker = "ij,jk->ik"

    @cr.jit
    def f(a, b):
        return cr.einsum(marker, a, b).sum()

    a, b = np.ones((2, 3)), np.ones((3, 4))
    f(a, b)
    np.testing.assert_array_equal(f(a * 2, b), np.einsum(marker, a * 2, b).sum())
    (prog,) = f.programs()
    assert marker not in prog.source and "'" not in prog.source and '"' not in prog.source


@pytest.mark.parametrize("source", [
    "def replay(a0):\n    return ('text',)\n",                 # a string constant
    "def replay(a0):\n    return (a0.__class__,)\n",           # a dunder attribute
    "def replay(a0):\n    return (__import__,)\n",             # a dunder name
    "def replay(a0):\n    import os\n    return (a0,)\n",      # a statement the generator never writes
    "def replay(a0):\n    return (lambda: a0,)\n",             # an expression it never writes
])
def test_a_replay_with_anything_the_generator_never_writes_is_not_compiled(source):
    from chainrule.jit.program import _vetted

    with pytest.raises(RuntimeError, match="internal error"):
        _vetted(source)


def test_raw_memory_of_a_constant_may_be_read_and_is_folded():
    f = cr.jit(lambda x: x + np.frombuffer(bytes(np.arange(3.0) * 2), dtype=np.float64))
    np.testing.assert_array_equal(f(np.zeros(3)), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(f(np.ones(3)), [1.0, 3.0, 5.0])


@pytest.mark.skipif(sys.version_info < (3, 12), reason="memoryview(x) of an ndarray subclass is Python's from 3.12")
def test_a_memoryview_of_a_traced_value_raises():
    with pytest.raises(cr.ConcretizationError, match="memoryview"):
        cr.jit(lambda x: np.frombuffer(memoryview(x * 2.0), dtype=np.float64) + 0)(np.ones(3))
