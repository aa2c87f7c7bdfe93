"""LSTM (or GRU) training step (batch 32, sequence 32, input 32, hidden 128, Linear head, float32, SGD) vs PyTorch.

Both run the same step from the same weights on the same data in one process,
are first checked to agree, then alternate in rounds so that CPU throttling
hits both alike; both use one thread. Without torch installed only chainrule's
time is reported. The ratio chainrule / PyTorch eager is what matters (goal ≤ 1.5).

    python benchmarks/bench_lstm.py [--cell lstm|gru] [--steps 10] [--rounds 5] [--json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: single-threaded BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

BATCH, STEPS, INPUT, HIDDEN, CLASSES, LR = 32, 32, 32, 128, 10, 0.01


class Model(nn.Module):
    """LSTM (or GRU) over the sequence, Linear head on the last hidden state."""

    def __init__(self, cell="lstm"):
        super().__init__()
        self.lstm = (nn.LSTM if cell == "lstm" else nn.GRU)(INPUT, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        _, h = self.lstm(x)
        return self.head((h[0] if isinstance(h, tuple) else h)[-1])


def ours(x, y, cell="lstm"):
    cr.random.seed(0)
    model = Model(cell)
    opt = optim.SGD(model.parameters(), lr=LR)
    xt = cr.tensor(x)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), y)
        loss.backward()
        opt.step()
        return float(loss.data)
    return model, step


def theirs(torch, model, x, y, cell="lstm"):
    torch.set_num_threads(1)
    lstm = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(INPUT, HIDDEN, batch_first=True)
    head = torch.nn.Linear(HIDDEN, CLASSES)
    sd = {k: torch.from_numpy(np.array(v.data)) for k, v in model.state_dict().items()}
    lstm.load_state_dict({k[5:]: v for k, v in sd.items() if k.startswith("lstm.")})
    head.load_state_dict({k[5:]: v for k, v in sd.items() if k.startswith("head.")})
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        _, h = lstm(xt)
        loss = torch.nn.functional.cross_entropy(head((h[0] if isinstance(h, tuple) else h)[-1]), yt)
        loss.backward()
        opt.step()
        return float(loss.detach())
    return step


def timed(step, n):
    t = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS, INPUT)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    model, step_cr = ours(x, y, args.cell)
    try:
        import torch
    except ImportError:
        torch = None
    step_t = theirs(torch, model, x, y, args.cell) if torch else None
    for _ in range(3):  # same weights: the losses agree step by step
        a = step_cr()
        if step_t:
            b = step_t()
            if abs(a - b) > 1e-4 * max(1.0, abs(b)):
                raise SystemExit(f"bench_lstm: losses differ: chainrule {a} vs PyTorch {b}")
    best_cr, best_t = [], []
    for _ in range(args.rounds):
        best_cr.append(timed(step_cr, args.steps))
        if step_t:
            best_t.append(timed(step_t, args.steps))
    result = {"name": f"{args.cell}_step", "chainrule_ms": 1e3 * min(best_cr)}
    if step_t:
        result.update(torch_ms=1e3 * min(best_t), ratio=min(best_cr) / min(best_t), target=1.5)
    if args.json:
        print(json.dumps(result))
    else:
        line = (f"{args.cell.upper()} step b{BATCH} L{STEPS} in{INPUT} h{HIDDEN}, float32, 1 thread: "
                f"chainrule {result['chainrule_ms']:.2f} ms")
        if step_t:
            line += f", PyTorch eager {result['torch_ms']:.2f} ms, ratio {result['ratio']:.2f} (goal <= 1.5)"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
