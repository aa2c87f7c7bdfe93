"""cr.Function: forward on arrays, backward with chainrule ops, saved tensors on the graph, jvp, errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.function import Function
from chainrule.transforms import grad, hessian, jacfwd, jacrev, jvp, vmap


class Cube(Function):
    backward_calls = 0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        Cube.backward_calls += 1
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2

    @staticmethod
    def jvp(ctx, dx):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * dx


class MulAdd(Function):
    """x * y + c with c a plain number; returns None for c."""

    @staticmethod
    def forward(ctx, x, y, c):
        ctx.save_for_backward(x, y)
        ctx.c = c
        ctx.seen = ctx.needs_input_grad
        return x * y + c

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * x, None


class Exp(Function):
    """Saves its output: saved_tensors gives back the output Tensor, on the graph."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class NoJvp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cr.cos(x)


def test_api_example():
    t = cr.tensor(2.0, requires_grad=True)
    y = Cube.apply(t)
    y.backward()
    assert float(t.grad.item()) == 12.0 and float(y.item()) == 8.0


def test_second_and_third_derivatives_through_functions():
    assert float(grad(grad(Cube.apply))(2.0)) == 12.0
    assert float(grad(grad(grad(Cube.apply)))(2.0)) == 6.0
    assert np.isclose(float(grad(grad(Exp.apply))(0.5)), np.exp(0.5))
    assert np.isclose(float(grad(grad(NoJvp.apply))(0.5)), -np.sin(0.5))
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = cr.autograd.grad(Cube.apply(x).sum(), [x], create_graph=True)
    g.sum().backward()
    assert np.allclose(x.grad.data, 6 * x.data)


def test_saved_tensors_are_the_graph_tensors():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, w):
            out = x * w
            ctx.save_for_backward(x, out, np.ones(2))
            return out

        @staticmethod
        def backward(ctx, g):
            x, out, const = ctx.saved_tensors
            seen["x"], seen["out"], seen["const"] = x, out, const
            return g * 2, None

    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Probe.apply(x, np.array([2.0, 2.0]))
    y.sum().backward()
    assert seen["x"]._node is x._node and seen["x"].data is x.data  # the input, on the graph
    assert seen["out"].grad_fn is y.grad_fn and np.array_equal(seen["out"].data, y.data)  # the output, on its node
    assert not seen["const"].requires_grad and np.array_equal(seen["const"].data, np.ones(2))


def test_several_inputs_none_gradients_ctx_attributes_needs_input_grad():
    x = cr.tensor(2.0, requires_grad=True)
    y = cr.tensor(3.0)
    out = MulAdd.apply(x, y, 5.0)
    out.backward()
    assert float(out.item()) == 11.0 and float(x.grad.item()) == 3.0
    gx, gy = grad(lambda a, b: MulAdd.apply(a, b, 1.0), argnums=(0, 1))(2.0, 3.0)
    assert float(gx) == 3.0 and float(gy) == 2.0


def test_needs_input_grad():
    flags = {}

    class Flags(Function):
        @staticmethod
        def forward(ctx, a, b):
            flags["v"] = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    Flags.apply(cr.tensor(1.0, requires_grad=True), cr.tensor(2.0))
    assert flags["v"] == (True, False)


def test_backward_runs_once_per_backward_pass():
    Cube.backward_calls = 0
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (Cube.apply(x) * Cube.apply(x)).sum().backward()
    assert Cube.backward_calls == 2

    class Two(Function):
        calls = 0

        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            Two.calls += 1
            return g, g

    a, b = cr.tensor(1.0, requires_grad=True), cr.tensor(2.0, requires_grad=True)
    Two.apply(a, b).backward()
    assert Two.calls == 1


def test_forward_mode_and_jacobians():
    assert float(jvp(Cube.apply, (2.0,), (1.0,))[1]) == 12.0
    x = np.array([1.0, 2.0])
    assert np.allclose(jacfwd(Cube.apply)(x), np.diag(3 * x ** 2))
    assert np.allclose(jacrev(Cube.apply)(x), np.diag(3 * x ** 2))
    assert np.allclose(hessian(lambda x: Cube.apply(x).sum())(x), np.diag(6 * x))


def test_forward_mode_without_jvp_names_the_function():
    with pytest.raises(NotImplementedError, match="NoJvp.*jvp"):
        jvp(NoJvp.apply, (1.0,), (1.0,))
    assert np.allclose(jacrev(NoJvp.apply)(np.array([0.1, 0.2])), np.diag(np.cos([0.1, 0.2])))


def test_vmap_over_a_function_gives_each_element_its_own_ctx():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert np.allclose(vmap(Cube.apply)(X), X ** 3)
    assert np.allclose(vmap(grad(lambda x: Cube.apply(x).sum()))(X), 3 * X ** 2)


def test_errors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="one array"):
        Bad.apply(cr.tensor(1.0))

    class WrongCount(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="1 gradient.*2 input"):
        WrongCount.apply(cr.tensor(1.0, requires_grad=True), cr.tensor(2.0)).backward()
    with pytest.raises(TypeError, match="subclass"):
        Function.apply(1.0)
