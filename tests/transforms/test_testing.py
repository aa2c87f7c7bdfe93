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
