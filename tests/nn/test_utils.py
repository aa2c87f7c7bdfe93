"""nn.utils: gradient clipping by norm and by value, parameters to and from one vector."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def with_grads(*grads, dtype=np.float64):
    params = []
    for g in grads:
        p = cr.tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        p.grad = cr.tensor(np.asarray(g, dtype=dtype))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
def test_clip_grad_norm_scales_jointly(norm_type):
    g1, g2 = np.array([3.0, -4.0]), np.array([[1.0, 2.0], [-2.0, 0.5]])
    params = with_grads(g1, g2)
    flat = np.concatenate([g1, g2.ravel()])
    total = np.max(np.abs(flat)) if np.isinf(norm_type) else np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    got = clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
    assert isinstance(got, cr.Tensor) and got.item() == pytest.approx(total, rel=1e-12)
    coef = 1.5 / (total + 1e-6)
    np.testing.assert_allclose(params[0].grad.data, g1 * coef, rtol=1e-12)
    np.testing.assert_allclose(params[1].grad.data, g2 * coef, rtol=1e-12)


def test_clip_grad_norm_leaves_small_gradients_and_keeps_float32():
    params = with_grads([0.3, 0.4], dtype=np.float32)
    assert clip_grad_norm_(params, 10.0).item() == pytest.approx(0.5)
    assert params[0].grad.data.tolist() == pytest.approx([0.3, 0.4])
    params = with_grads([30.0, 40.0], dtype=np.float32)
    total = clip_grad_norm_(params[0], 1.0)  # a single Tensor is accepted, as in PyTorch
    assert total.dtype == np.float32 and params[0].grad.dtype == np.float32
    assert np.linalg.norm(params[0].grad.data) == pytest.approx(1.0, rel=1e-5)
    p = cr.tensor(np.zeros(2), requires_grad=True)  # no .grad: skipped
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(with_grads([np.inf, 1.0]), 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    params = with_grads([3.0, -0.5, -7.0])
    clip_grad_value_(params, 1.0)
    assert params[0].grad.data.tolist() == [1.0, -0.5, -1.0]


def test_clipping_then_optimiser_step_uses_clipped_gradient():
    w = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
    opt = cr.optim.SGD([w], lr=1.0)
    (w * w).sum().backward()  # gradient (6, 8), norm 10
    clip_grad_norm_([w], 1.0)
    opt.step()
    np.testing.assert_allclose(w.data, [3 - 0.6, 4 - 0.8], rtol=1e-6)


def test_parameters_to_vector_round_trip_and_gradient():
    layer = nn.Linear(3, 2)
    vec = parameters_to_vector(layer.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.data, np.concatenate([layer.weight.data.ravel(), layer.bias.data]))
    (vec * cr.tensor(np.arange(8.0))).sum().backward()  # differentiable, as torch.cat
    np.testing.assert_array_equal(layer.weight.grad.data.ravel(), np.arange(6.0))
    np.testing.assert_array_equal(layer.bias.grad.data, [6.0, 7.0])
    weight_array = layer.weight.data
    vector_to_parameters(cr.tensor(np.arange(8.0) * 2), layer.parameters())
    assert layer.weight.data is weight_array  # in place: an optimiser holding the array sees the change
    np.testing.assert_array_equal(layer.weight.data, np.arange(6.0).reshape(2, 3) * 2)
    np.testing.assert_array_equal(layer.bias.data, [12.0, 14.0])
    with pytest.raises(ValueError, match="vec has 7 entries, the parameters have 8"):
        vector_to_parameters(cr.tensor(np.zeros(7)), layer.parameters())
    with pytest.raises(TypeError, match="1-d"):
        vector_to_parameters(cr.tensor(np.zeros((2, 4))), layer.parameters())
