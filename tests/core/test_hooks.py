"""Tensor.register_post_accumulate_grad_hook (core/hooks.py): when it fires, with what, and its handle."""

import gc

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.core.hooks import POST_ACCUMULATE


def test_each_gradient_is_delivered_as_soon_as_backward_has_finished_it():
    cr.random.seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    first = model[0].weight
    seen = []
    for name, p in model.named_parameters():
        # the first layer's gradient is not computed yet when the last layer's arrives
        p.register_post_accumulate_grad_hook(lambda t, name=name: seen.append((name, first.grad is None)))
    model(cr.ones((2, 3), dtype="float32")).sum().backward()
    assert seen == [("2.weight", True), ("2.bias", True), ("0.weight", False), ("0.bias", False)]
    plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    plain.load_state_dict(model.state_dict())
    plain(cr.ones((2, 3), dtype="float32")).sum().backward()
    for p, q in zip(model.parameters(), plain.parameters()):
        np.testing.assert_array_equal(p.grad.data, q.grad.data)  # hooks change nothing


def test_a_leaf_used_twice_gets_its_hook_once_with_the_sum():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    got = []
    handle = w.register_post_accumulate_grad_hook(lambda t: got.append(t.grad.data.tolist()))
    ((w * 3.0).sum() + (w * w).sum()).backward()
    w.sum().backward()  # a leaf that is its output's direct input, and an accumulation into .grad
    assert got == [[5.0, 7.0], [6.0, 8.0]]
    handle.remove()
    handle.remove()
    w.sum().backward()
    assert len(got) == 2
    (gw,) = cr.autograd.grad((w * 2.0).sum(), [w])  # returns gradients; accumulates and calls nothing
    assert len(got) == 2 and gw.data.tolist() == [2.0, 2.0]


def test_only_leaves_that_require_grad_take_hooks_and_the_table_forgets_dead_ones():
    with pytest.raises(RuntimeError, match="only a leaf"):
        (cr.tensor([1.0], requires_grad=True) * 2.0).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="only a leaf"):
        cr.tensor([1.0]).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match="callable"):
        cr.tensor([1.0], requires_grad=True).register_post_accumulate_grad_hook(3)
    before = len(POST_ACCUMULATE)
    w = cr.tensor([1.0], requires_grad=True)
    w.register_post_accumulate_grad_hook(print)
    assert len(POST_ACCUMULATE) == before + 1
    del w
    gc.collect()
    assert len(POST_ACCUMULATE) == before
