"""A whole training step jitted equals eager over several steps, for every model of the train command."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.cli.training.models import _shape_input, build_model


def _cnn_bn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


MODELS = {
    "mlp": lambda: build_model("mlp", 64, 3),
    "cnn": lambda: build_model("cnn", 64, 3),
    "cnn+batchnorm": _cnn_bn,
    "lstm": lambda: build_model("lstm", 64, 3),
    "transformer": lambda: build_model("transformer", 64, 3),
    "rnn": lambda: _RNN(),
}


class _RNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, 6, batch_first=True)
        self.out = nn.Linear(6, 3)

    def forward(self, x):
        h, _ = self.rnn(x.reshape(x.shape[0], 8, 8))
        return self.out(h[:, -1])


def _setup(kind, opt, dtype):
    cr.random.seed(0)
    model = MODELS[kind]()
    model.to(dtype)
    opt = (cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if opt == "sgd"
           else cr.optim.Adam(model.parameters(), lr=1e-3))

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(_shape_input(kind if kind != "cnn+batchnorm" else "cnn", x)), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_jitted_training_step_equals_eager(kind, opt, dtype):
    eager_model, eager_step = _setup(kind, opt, dtype)
    jit_model, jit_step = _setup(kind, opt, dtype)
    jit_step = cr.jit(jit_step)
    rng = np.random.default_rng(1)
    for _ in range(4):
        x = cr.tensor(rng.standard_normal((6, 64)).astype(dtype))
        y = cr.tensor(rng.integers(0, 3, 6))
        a, b = eager_step(x, y), jit_step(x, y)
        assert a.data.dtype == b.data.dtype == dtype
        np.testing.assert_array_equal(a.data, b.data)
    assert jit_step.traces == 1
    for (name, p), (_, q) in zip(eager_model.state_dict().items(), jit_model.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(p), np.asarray(q), err_msg=name)


def test_dropout_training_follows_the_seed():
    def run(wrap):
        cr.random.seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        cr.random.seed(5)
        rng = np.random.default_rng(2)
        losses = [step(cr.tensor(rng.standard_normal((8, 64))), cr.tensor(rng.integers(0, 3, 8))).data.item()
                  for _ in range(5)]
        return losses, model.state_dict()

    (eager, p1), (jitted, p2) = run(lambda f: f), run(cr.jit)
    assert eager == jitted and len(set(eager)) == 5
    for name in p1:
        np.testing.assert_array_equal(np.asarray(p1[name]), np.asarray(p2[name]), err_msg=name)
