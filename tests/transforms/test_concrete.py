"""Never a silently dropped graph: conversions of traced values raise, NumPy's conversions of graphs warn."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

X = np.array([1.0, 2.0])


# ---- the case from the issue -----------------------------------------------------------------
def test_hessian_of_float_of_the_input_raises_instead_of_a_wrong_matrix():
    # main returned [[2, 0], [0, 2]]: float(x[0]) was a constant to the transformation
    with pytest.raises(cr.ConcretizationError, match=r"float\(x\).*inside a transformation"):
        cr.hessian(lambda x: (x * x).sum() * float(x[0]))(X)
    # written with chainrule operations, the truth
    np.testing.assert_allclose(cr.hessian(lambda x: (x * x).sum() * x[0])(X), [[6.0, 4.0], [4.0, 2.0]])


def test_the_error_is_a_type_error_that_says_what_to_use_instead():
    assert issubclass(cr.ConcretizationError, TypeError)
    with pytest.raises(TypeError, match=r"x\.item\(\) inside a transformation.*x\.detach\(\)"):
        cr.grad(lambda x: x * x.item())(2.0)


# ---- every conversion, under every transformation -----------------------------------------------
CONVERSIONS = {
    "float": lambda x: x * float(x[0]),
    "int": lambda x: x * int(x[0]),
    "bool": lambda x: x if bool(x[0]) else -x,
    "item": lambda x: x * x[0].item(),
    "tolist": lambda x: x * x.tolist()[0],
    "math.sin": lambda x: x * math.sin(x[0]),
    "np.asarray": lambda x: x * np.asarray(x),
    "np.array": lambda x: x * np.array(x),
    "__array__": lambda x: x * x.__array__(),
    "numpy()": lambda x: x * x.numpy(),
    "cr.tensor": lambda x: x * cr.tensor(x),
    "np.array of a list": lambda x: x * np.array([x[0], x[1]]),
    "np.mean of a list": lambda x: x * np.mean([x[0], x[1] * x[1]]),
    "np.sum of a list": lambda x: x * np.sum([x[0], x[1] * x[1]]),
    "np.prod of a list": lambda x: x * np.prod([x[0], x[1] * x[1]]),
    "np.r_": lambda x: np.r_[x, x][:2],
    "np.c_": lambda x: np.c_[x, x][:, 0],
    "np.vectorize": lambda x: np.vectorize(lambda v: v * v)(x),
    "np.linalg.det of a nested list": lambda x: x * np.linalg.det([[x[0], x[1]], [x[1], 3.0]]),
}

TRANSFORMS = {
    "grad": lambda f: cr.grad(lambda x: f(x).sum())(X),
    "value_and_grad": lambda f: cr.value_and_grad(lambda x: f(x).sum())(X),
    "vjp": lambda f: cr.vjp(f, X)[1](np.ones(2)),
    "jvp": lambda f: cr.jvp(f, (X,), (np.ones(2),)),
    "jacobian": lambda f: cr.jacobian(f)(X),
    "jacfwd": lambda f: cr.jacfwd(f)(X),
    "jacrev": lambda f: cr.jacrev(f)(X),
    "hessian": lambda f: cr.hessian(lambda x: f(x).sum())(X),
    "hvp": lambda f: cr.hvp(lambda x: f(x).sum(), (X,), (np.ones(2),)),
    "vmap": lambda f: cr.vmap(f)(np.stack([X, X + 1])),
    "grad of a Tensor that requires grad": lambda f: cr.grad(lambda x: f(x).sum())(cr.tensor(X, requires_grad=True)),
    "grad of grad": lambda f: cr.grad(lambda y: cr.grad(lambda x: (f(x) * y).sum())(X * y).sum())(1.5),
}


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("conversion", CONVERSIONS)
def test_converting_a_traced_value_raises(transform, conversion):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.VisibleDeprecationWarning)  # np.vectorize's own
        with pytest.raises(cr.ConcretizationError, match="inside a transformation"):
            TRANSFORMS[transform](CONVERSIONS[conversion])


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_values_that_do_not_depend_on_the_input_stay_convertible(transform):
    def f(x):
        c = cr.tensor([2.0, 3.0])
        scale = float(c[0]) + np.asarray(c).sum() + math.sin(0.0) + np.mean([c[0], c[1]])  # 7.5
        return x * scale * x.shape[0]  # a fact of x (its shape) is concrete too

    out = TRANSFORMS[transform](f)
    assert out is not None


def test_a_checkpointed_segment_inside_a_transformation_is_traced_too():
    # main gave 2.0 (float(x) a constant); the truth is 4.0
    with pytest.raises(cr.ConcretizationError, match=r"float\(x\)"):
        cr.grad(cr.checkpoint(lambda x: x * float(x)))(2.0)
    np.testing.assert_allclose(cr.grad(cr.checkpoint(lambda x: x * x))(2.0), 4.0)
    # outside transformations checkpoint is the plain tape: float(x) is a constant, as without it
    x = cr.tensor(2.0, requires_grad=True)
    cr.checkpoint(lambda v: v * float(v))(x).backward()
    assert float(x.grad) == 2.0


def test_detach_is_the_way_to_a_constant():
    g = cr.grad(lambda x: (x * x).sum() * float(x[0].detach()))(X)
    np.testing.assert_allclose(g, 2 * X * X[0])


def test_a_closed_over_parameter_is_not_traced():
    w = cr.tensor(3.0)  # no graph: a constant to the transformation
    np.testing.assert_allclose(cr.grad(lambda x: x * float(w))(2.0), 3.0)


def test_after_the_transformation_its_values_are_concrete_again():
    out, vjp_fn = cr.vjp(lambda x: x * x, cr.tensor(X))
    assert out.tolist() == [1.0, 4.0] and float(vjp_fn(cr.tensor(np.ones(2)))[0][1]) == 4.0


def test_vmap_refuses_with_the_same_error():
    with pytest.raises(cr.ConcretizationError, match=r"float\(x\) inside a transformation: it is batched"):
        cr.vmap(lambda x: float(x))(X)
    with pytest.raises(cr.ConcretizationError, match=r"bool\(x\)"):
        cr.vmap(lambda x: x if x else -x)(X)


# ---- lists of Tensors: what chainrule can record, records -----------------------------------------
@pytest.mark.parametrize("reduce, grad", [(cr.mean, [0.5, 2.0]), (cr.sum, [1.0, 4.0]), (cr.prod, [4.0, 4.0]),
                                          (cnp.mean, [0.5, 2.0]), (cnp.sum, [1.0, 4.0])])
def test_chainrule_reductions_of_a_list_record(reduce, grad):
    x = cr.tensor(X, requires_grad=True)
    reduce([x[0], x[1] * x[1]]).backward()
    np.testing.assert_allclose(x.grad.data, grad)
    np.testing.assert_allclose(cr.grad(lambda v: reduce([v[0], v[1] * v[1]]))(X), grad)


def test_cr_mean_of_a_nested_list_with_numbers_records():
    g = cr.grad(lambda v: cr.mean([[v[0], v[1]], [v[1], 2.0]], axis=0).sum())(X)
    np.testing.assert_allclose(g, [0.5, 1.0])


def test_chainrule_numpy_r_and_c_record():
    x = cr.tensor(X.astype(np.float32), requires_grad=True)
    y = cnp.r_[x, x * 3, 0.0]
    assert y.dtype == np.float32 and y.tolist() == [1.0, 2.0, 3.0, 6.0, 0.0]
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 4.0])
    c = cnp.c_[x, x * x]
    np.testing.assert_allclose(c.data, np.c_[X, X * X])
    np.testing.assert_allclose(cr.jacobian(lambda v: cnp.c_[v, v * v])(X)[:, 1], [[2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_array_equal(cnp.r_[0:3], np.r_[0:3])  # no Tensor: NumPy's own
    with pytest.raises(TypeError, match="string directives"):
        cnp.r_["0,2", x, x]


def test_chainrule_numpy_array_and_stack_of_a_list_record():
    g = cr.grad(lambda v: (cnp.array([v[0], v[1] * v[1]]) * cr.stack([v[1], v[0]])).sum())(X)
    np.testing.assert_allclose(g, [X[1] + X[1] ** 2, X[0] + 2 * X[0] * X[1]])


# ---- outside transformations: NumPy's conversion of a graph warns -----------------------------------
def test_numpy_conversion_of_a_tensor_that_requires_grad_warns_at_the_users_line():
    x = cr.tensor(X, requires_grad=True)
    with pytest.warns(cr.GraphDropWarning, match="off the tape") as caught:
        a = np.asarray(x)
    assert type(a) is np.ndarray
    assert caught[0].filename == __file__  # pointed at this line, not at NumPy or chainrule
    assert issubclass(cr.GraphDropWarning, UserWarning)


@pytest.mark.parametrize("call", [
    lambda x: np.mean([x[0], x[1]]), lambda x: np.sum([x, x]), lambda x: np.prod([x[0], x[1]]),
    lambda x: np.array([x[0], x[1]]), lambda x: np.r_[x, x], lambda x: np.c_[x, x],
    lambda x: np.linalg.det([[x[0], x[1]], [x[1], x[0]]]), lambda x: cr.tensor([x[0], x[1]]),
    lambda x: np.vectorize(lambda v: v * v)(x),
])
def test_numpy_functions_given_lists_of_graphs_warn(call):
    with pytest.warns(cr.GraphDropWarning):
        call(cr.tensor(X, requires_grad=True))


def test_once_per_call_site():
    x = cr.tensor(X, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            np.asarray(x)
        np.asarray(x)  # another line
    assert [w.category for w in caught] == [cr.GraphDropWarning] * 2
    assert caught[0].lineno != caught[1].lineno


def test_no_warning_when_the_drop_is_meant():
    x = cr.tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.GraphDropWarning)
        np.asarray(x.detach()), x.numpy(), float(x[0]), x.tolist(), np.asarray(cr.tensor(X))
        with cr.no_grad():
            np.asarray(x)
