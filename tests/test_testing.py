"""gradcheck and the per-node check: passes on correct code, names the input, index, node and values otherwise."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.function import Function
from chainrule.extend import Primitive
from chainrule.testing import GradcheckError, check_nodes, gradcheck
from chainrule.transforms import checkpoint


class BadSin(Function):
    """sin with a wrong backward (cos replaced by sin) and a right jvp."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cr.sin(x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * cr.cos(x)


class GoodNoJvp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cr.cos(x)


# a primitive whose forward rule is wrong (2x² instead of 3x²), its reverse rule right
bad_cube = Primitive("test_bad_cube", lambda x: x ** 3, vjp=(lambda g, ans, x: g * 3 * x ** 2,),
                     jvp=(lambda t, ans, x: t * 2 * x ** 2,), save=("args",), register=False)


def test_correct_functions_pass():
    assert gradcheck(lambda x, y: cr.sin(x) * y, (1.0, 2.0)) is True
    rng = np.random.default_rng(0)
    assert gradcheck(lambda a, b: cr.tanh(a @ b).sum(axis=0) + cr.logsumexp(a, axis=1).sum(),
                     (rng.standard_normal((3, 4)), rng.standard_normal((4, 2))), per_node=True)
    # a large input: checked along random directions only
    assert gradcheck(lambda x: cr.softmax(x) * x, (rng.standard_normal(200),))
    assert check_nodes(lambda x: checkpoint(lambda z: cr.exp(z) * z)(x), (np.array([0.1, 0.2]),))


def test_error_names_input_index_and_both_values():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: x.sum() * 2 + cr.exp(BadSin.apply(y)).sum(), (np.ones(2), np.array([0.1, 0.5, 0.9])))
    e = info.value
    assert isinstance(e, AssertionError)
    assert e.input == 1 and e.index is not None and e.mode == "reverse"
    assert "input 1" in str(e) and f"index {e.index}" in str(e)
    assert repr(e.analytic) in str(e) and repr(e.numeric) in str(e)
    x = np.array([0.1, 0.5, 0.9])[e.index]
    assert np.isclose(e.numeric, np.exp(np.sin(x)) * np.cos(x), rtol=1e-5)


def test_forward_mode_is_checked_too():
    with pytest.raises(GradcheckError, match="forward-mode") as info:
        gradcheck(lambda x: cr.sin(bad_cube(x)), (np.array([0.3, 1.5]),))
    assert info.value.mode == "forward"
    assert gradcheck(lambda x: GoodNoJvp.apply(x), (np.array([0.3]),), forward=False)


def test_per_node_check_names_the_faulty_function():
    f = lambda x: cr.exp(BadSin.apply(x * 2)).sum()
    with pytest.raises(GradcheckError) as info:
        check_nodes(f, (np.array([0.1, 0.5, 0.9]),))
    msg = str(info.value)
    assert "primitive 'BadSin'" in msg and "node 1 of 4" in msg and "input shapes [(3,)]" in msg
    assert "reverse-mode" in msg and "worst error" in msg and "at index" in msg
    assert info.value.node.prim.name == "BadSin"
    with pytest.raises(GradcheckError, match="per-node check.*BadSin"):
        gradcheck(f, (np.array([0.1, 0.5, 0.9]),), per_node=True)


def test_per_node_check_names_the_faulty_primitive():
    with pytest.raises(GradcheckError) as info:
        check_nodes(lambda x, y: cr.sin(bad_cube(x)) * y, (np.array([0.3, 1.5]), 2.0))
    msg = str(info.value)
    assert "primitive 'test_bad_cube'" in msg and "node 0 of 3" in msg and "forward-mode" in msg
    # the worst entry is named: |2x² - 3x²| is largest at x = 1.5
    assert info.value.index == (1,)


def test_per_node_check_sees_nodes_that_save_nothing():
    # add saves no arguments; the check records a graph that keeps them, and the primitives' flags come back
    from chainrule.ops.elementwise import add

    before = (add.save_args, add.save_ans)
    assert check_nodes(lambda x, y: (x + y) * x, (np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    assert (add.save_args, add.save_ans) == before


class BadNoJvp(Function):
    """sin with a wrong backward and no jvp: forward mode cannot run through it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cr.sin(x)


def test_pytree_inputs_and_errors_name_the_leaf_path():
    assert gradcheck(lambda p: p["a"] * p["b"], ({"a": 1.0, "b": 2.0},))
    assert gradcheck(lambda p, x: (p["w"][0] * x).sum() + p["w"][1] ** 2, ({"w": (np.ones(2), 3.0)}, np.ones(2)))
    assert check_nodes(lambda p: cr.tanh(p["a"]) * p["b"], ({"a": np.ones(2), "b": 0.5},))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, p: x * cr.exp(BadSin.apply(p["w"][1])).sum(), (2.0, {"w": [1.0, np.array([0.1, 0.5])]}))
    e = info.value
    assert e.input == "1['w'][1]" and e.index is not None and e.mode == "reverse"
    assert "input 1['w'][1]" in str(e)


def test_a_wrong_backward_is_reported_when_forward_mode_cannot_run():
    f = lambda x: cr.exp(BadNoJvp.apply(x)).sum()
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, (np.array([0.1, 0.5, 0.9]),))
    assert info.value.mode == "reverse"
    with pytest.raises(GradcheckError, match="per-node check.*BadNoJvp.*reverse-mode"):
        gradcheck(f, (np.array([0.1, 0.5, 0.9]),), per_node=True)


def test_forward_mode_skipped_where_unavailable_says_so():
    with pytest.warns(cr.testing.GradcheckWarning, match="forward mode was not checked.*GoodNoJvp"):
        assert gradcheck(lambda x: GoodNoJvp.apply(x) * 2, (np.array([0.3, 0.7]),))
    with pytest.warns(cr.testing.GradcheckWarning, match=r"node 0 \(GoodNoJvp\)"):
        assert check_nodes(lambda x: GoodNoJvp.apply(x) * 2, (np.array([0.3, 0.7]),))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda x: GoodNoJvp.apply(x) * 2, (np.array([0.3, 0.7]),), forward=False)


def test_per_node_check_runs_f_once_and_leaves_the_primitives_alone():
    from chainrule.ops.elementwise import add, multiply

    calls = []
    flags = [(p.save_args, p.save_ans) for p in (add, multiply)]

    def f(x, y):
        calls.append(1)
        # another thread (or this function) sees the primitives as they always are
        assert [(p.save_args, p.save_ans) for p in (add, multiply)] == flags
        return cr.tanh(x + y) * x

    assert check_nodes(f, (np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    assert len(calls) == 1


def test_the_recorder_sees_only_its_own_thread():
    import threading

    from chainrule.transforms._util import Recorder

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with Recorder() as rec:
        worker = threading.Thread(target=lambda: cr.exp(x) * 2)
        worker.start()
        worker.join()
        cr.sin(x)
    assert [e[0].name for e in rec.entries] == ["sin"]


def _value(x):
    return x.data if isinstance(x, cr.Tensor) else np.asarray(x)


# a primitive whose reverse rule is right at first order but a constant to reverse mode over it (its second
# derivative reads as 0 instead of 6x): only a second-order check sees it
flat_cube = Primitive("test_flat_cube", lambda x: x ** 3, vjp=(lambda g, ans, x: g * cr.tensor(3 * _value(x) ** 2),),
                      jvp=(lambda t, ans, x: t * 3 * x ** 2,), save=("args",), register=False)
# relu whose forward rule takes relu'(0) = 1 while its reverse rule takes 0: they disagree only at 0
split_relu = Primitive("test_split_relu", lambda x: np.maximum(x, 0), vjp=(lambda g, ans, x: g * (_value(x) > 0),),
                       jvp=(lambda t, ans, x: t * (_value(x) >= 0),), save=("args",), register=False)
# a reverse rule wrong at one entry of 200 (index 137): entry by entry, the error names it
WRONG_AT = 137
one_off = Primitive("test_one_off", lambda x: x * 2.0,
                    vjp=(lambda g, ans, x: g * np.where(np.arange(np.size(x)) == WRONG_AT, 2.5, 2.0),),
                    jvp=(lambda t, ans, x: t * 2.0,), save=("args",), register=False)


def test_second_order_is_checked_on_request():
    x = np.array([0.3, -1.2, 0.8])
    assert gradcheck(lambda x: flat_cube(x), (x,))  # first order is right
    with pytest.raises(GradcheckError, match="second-order") as info:
        gradcheck(lambda x: flat_cube(x), (x,), second_order=True)
    assert info.value.mode == "second order"
    assert info.value.analytic == 0.0 and abs(info.value.numeric) > 1e-3
    assert gradcheck(lambda x: cr.sin(x) * cr.exp(x), (x,), second_order=True)


def test_piecewise_linear_means_a_second_derivative_of_zero():
    kinks = np.array([0.0, -0.0, 1.5, -1.5])
    sign = lambda u, x: [u * np.sign(x)]  # NOTE: abs'(0) = 0
    assert gradcheck(cr.abs, (kinks,), expected=sign, second_order=True, piecewise_linear=True)
    with pytest.raises(GradcheckError, match="second-order"):
        gradcheck(cr.sin, (np.array([0.3, 1.0]),), second_order=True, piecewise_linear=True)


def test_expected_gradient_replaces_finite_differences_at_a_kink():
    kinks = np.array([0.0, 1.5, -1.5])
    with pytest.raises(GradcheckError, match="expected gradient") as info:
        gradcheck(cr.relu, (kinks,), expected=lambda u, x: [u * (x >= 0)])
    assert info.value.index == (0,) and info.value.mode == "reverse"
    # at a kink central differences give ½, which no rule reports
    with pytest.raises(GradcheckError):
        gradcheck(cr.relu, (kinks,))


def test_forward_and_reverse_mode_must_agree():
    x = np.concatenate([np.zeros(2), np.linspace(0.5, 2.0, 38)])  # 40 entries: only a random direction
    relu_ref = lambda u, x: [u * (x > 0)]
    assert gradcheck(cr.relu, (x,), expected=relu_ref)
    with pytest.raises(GradcheckError, match="forward and reverse mode disagree") as info:
        gradcheck(lambda x: split_relu(x), (x,), expected=relu_ref)
    assert info.value.mode == "forward"


def test_sample_checks_entries_of_large_inputs():
    x = np.linspace(-1.0, 1.0, 200)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: one_off(x), (x,))
    assert info.value.index is None  # found along the random direction, unnamed
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: one_off(x), (x,), sample=200)
    assert info.value.index == (WRONG_AT,)
