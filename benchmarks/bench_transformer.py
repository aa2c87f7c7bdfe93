"""Transformer encoder training step (d_model 64, 4 heads, sequence 32, batch 32, float32, SGD): chainrule vs PyTorch.

One TransformerEncoderLayer (batch_first, dim_feedforward 256, dropout 0), mean over the sequence, a Linear
to 10 classes and softmax cross-entropy; forward, backward and an SGD update. Both sides start from the
same weights (PyTorch's state_dict loaded into chainrule), are first checked to agree, then alternate
in rounds; one thread each (BLAS and torch). The ratio chainrule / PyTorch eager is what matters
(target <= 1.5). Without torch installed, only chainrule's time is printed.

    python benchmarks/bench_transformer.py [--steps 20] [--rounds 7] [--json]
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

D_MODEL, HEADS, SEQ, BATCH, FF, CLASSES, LR = 64, 4, 32, 32, 256, 10, 0.01
TITLE = f"Transformer encoder step: d_model {D_MODEL}, {HEADS} heads, sequence {SEQ}, batch {BATCH}, float32"


class Classifier(nn.Module):
    """Encoder layer, mean over the sequence, Linear; the same submodule names in both libraries."""

    def __init__(self, lib):
        super().__init__()
        self.enc = lib.TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=FF, dropout=0.0, batch_first=True)
        self.head = lib.Linear(D_MODEL, CLASSES)

    def forward(self, x):
        return self.head(self.enc(x).mean(axis=1))


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, SEQ, D_MODEL), dtype=np.float32), rng.integers(0, CLASSES, BATCH)


def chainrule_side(state=None):
    model = Classifier(nn)
    if state is not None:
        model.load_state_dict(state)
    opt = optim.SGD(model.parameters(), lr=LR)
    x, y = make_data()
    xt = cr.tensor(x)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), y)
        loss.backward()
        opt.step()
        return float(loss.item())
    return step


def torch_side(torch):
    class TorchClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=FF, dropout=0.0,
                                                        batch_first=True)
            self.head = torch.nn.Linear(D_MODEL, CLASSES)

        def forward(self, x):
            return self.head(self.enc(x).mean(dim=1))

    torch.manual_seed(0)
    model = TorchClassifier()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = (torch.from_numpy(a) for a in make_data())

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return step, state


def timeit(fn, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
    result = {"benchmark": "transformer_step", "target": 1.5, "steps": args.steps, "rounds": args.rounds}
    if torch is None:
        ours = chainrule_side()
        for _ in range(3):
            ours()
        result["chainrule_ms"] = 1e3 * float(np.median([timeit(ours, args.steps) for _ in range(args.rounds)]))
    else:
        torch.set_num_threads(1)
        base, state = torch_side(torch)
        ours = chainrule_side(state)
        for _ in range(3):  # same weights, same data: the losses must agree step by step
            a, b = ours(), base()
            assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), (a, b)
        t_ours, t_base = [], []
        for r in range(args.rounds):  # alternate who goes first: throttling then favours neither
            pair = [(t_ours, ours), (t_base, base)]
            for times, fn in (pair if r % 2 else pair[::-1]):
                times.append(timeit(fn, args.steps))
        ratios = sorted(o / b for o, b in zip(t_ours, t_base))
        result.update(chainrule_ms=1e3 * float(np.median(t_ours)), torch_ms=1e3 * float(np.median(t_base)),
                      ratio=float(np.median(ratios)), ratio_min=ratios[0], ratio_max=ratios[-1])
    if args.json:
        print(json.dumps(result))
        return 0
    print(TITLE)
    print(f"  chainrule     : {result['chainrule_ms']:.3f} ms")
    if torch is None:
        print("  PyTorch eager : not installed (pip install torch to compare)")
    else:
        print(f"  PyTorch eager : {result['torch_ms']:.3f} ms")
        print(f"  ratio         : {result['ratio']:.3f}  (median of paired rounds; range "
              f"{result['ratio_min']:.3f}-{result['ratio_max']:.3f}; target <= {result['target']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
