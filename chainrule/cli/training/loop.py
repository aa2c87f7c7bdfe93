"""One run's epochs: train one, evaluate it, then write its checkpoint, metrics.csv and curves.png."""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from ... import random as cr_random
from ...core.state import no_grad
from ...creation import tensor
from ...data import DataLoader
from ...jit import jit
from ...nn import functional as F
from ...nn.parallel import DistributedDataParallel
from ...nn.utils import clip_grad_norm_
from .checkpoint import _config, _epoch_of, save_checkpoint
from .distributed import World
from .errors import WriteError
from .metrics import _COLUMNS, _Plot, _title, write_metrics
from .schedule import lr_at

__all__ = ["PROGRESS_INTERVAL", "evaluate", "optimizer_step"]

PROGRESS_INTERVAL = 0.1  # seconds between progress-bar redraws (tqdm's default)


def _epoch_seed(seed, epoch):
    """A seed for epoch ``epoch``'s shuffling and dropout, independent of how the run was split up."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def evaluate(model, x, y, batch=512):
    """(mean cross-entropy, accuracy, correct count) on (x, y), in eval mode without recording."""

    model.eval()
    total, correct = 0.0, 0
    with no_grad():
        for i in range(0, len(x), batch):
            logits = model(tensor(x[i : i + batch]))
            yb = y[i : i + batch]
            total += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += int((logits.data.argmax(axis=1) == yb).sum())
    model.train()
    n = max(len(x), 1)
    return total / n, correct / n, correct


def optimizer_step(opt, params, max_norm=None):
    """One optimiser step, the gradients' global 2-norm first clipped to ``max_norm`` (None: not clipped).

    >>> import chainrule as cr
    >>> from chainrule import optim
    >>> w = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()            # grad (6, 8), norm 10
    >>> optimizer_step(optim.SGD([w], lr=1.0), [w], max_norm=1.0)
    >>> [round(v, 4) for v in w.data.tolist()]
    [2.4, 3.2]
    """
    if max_norm is not None:
        clip_grad_norm_(params, max_norm)
    opt.step()


def _set_lr(opt, lr):
    for group in opt.param_groups:
        group["lr"] = lr


def _finite(model):
    return all(np.isfinite(p.data).all() for p in model.parameters())


def _progress(loader, desc, enabled):
    """(bar or None, what to iterate): a tqdm bar on stderr, only when stderr is a terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    if not (enabled and isatty is not None and isatty()):
        # A log file or pipe would keep every carriage-return redraw and the
        # cleared bar as "epoch k/20: 0%| | 0/45" fragments; the epoch lines say it all.
        return None, loader
    try:
        from tqdm import tqdm
    except ImportError:
        return None, loader
    bar = tqdm(loader, desc=desc, unit="batch", leave=False, file=sys.stderr, dynamic_ncols=True,
               mininterval=PROGRESS_INTERVAL)
    return bar, bar


class _Run:
    """One run's epochs: trains one, then writes the checkpoint, metrics.csv and curves.png; knows what
    is kept on disk when it stops early (a non-finite loss, Ctrl-C, a write that failed)."""

    def __init__(self, args, ckpt, model, opt, history, schedule, start, fresh, world=None):
        self.args, self.ckpt, self.model, self.opt = args, ckpt, model, opt
        self.world = world = world or World()
        # what the steps call: with --distributed, the model wrapped to average gradients during backward
        # (its wrap broadcasts rank 0's weights, which every rank has already, from the same seed or checkpoint)
        self.net = DistributedDataParallel(model) if world.size > 1 else model
        self.history, self.schedule, self.fresh = history, schedule, fresh
        self.current = start  # the epoch being trained (0-based)
        self.saved = start  # epochs the checkpoint on disk holds
        self.listed = start  # epochs metrics.csv holds
        self.failed = False  # a write failed
        self.metrics = os.path.join(args.out, "metrics.csv")
        self.plot = _Plot(os.path.join(args.out, "curves.png"), _title(args))
        # --jit: the step traced once per batch shape (the last, smaller batch adds one trace), then replayed
        self.traced_step = jit(self._forward_backward) if getattr(args, "jit", False) and world.size == 1 else None

    def _forward_backward(self, x, y):
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        return loss

    def epoch(self, epoch, dataset, xte, yte):
        """Train epoch ``epoch`` and write its files; False when it stopped on a non-finite loss."""

        args, model, opt = self.args, self.model, self.opt
        self.current = epoch
        t0 = time.perf_counter()
        epoch_seed = _epoch_seed(args.seed, epoch)
        cr_random.seed(epoch_seed)  # dropout masks, should a model use them
        loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, seed=epoch_seed)
        kind, steps = args.lr_schedule, len(loader)
        lr = lr_at(self.schedule, epoch, kind, 0, steps)  # the epoch's first step's, as metrics.csv shows
        _set_lr(opt, lr)
        params = list(model.parameters())
        world = self.world
        bar, batches = _progress(loader, f"epoch {epoch + 1}/{args.epochs}", not args.no_progress and world.lead)
        total, seen = 0.0, 0
        model.train()
        try:
            # an overflow is reported once, as the non-finite loss or weights it leads to, not as NumPy warnings
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for step, (xb, yb) in enumerate(batches):
                    if self.traced_step is not None:  # zero_grad, forward and backward, replayed
                        loss, value = None, self.traced_step(tensor(xb), yb).item()
                    elif world.size == 1:
                        opt.zero_grad()
                        loss = F.cross_entropy(model(tensor(xb)), yb)
                        value = loss.item()
                    else:
                        opt.zero_grad()
                        # this rank's share of the global batch; scaled so that the average over ranks that
                        # DistributedDataParallel takes is the global batch's mean, however it was split
                        xs, ys = world.share(xb, yb)
                        loss = F.cross_entropy(self.net(tensor(xs)), ys, reduction="sum")
                        value = float(world.sum([loss.item()])[0]) / len(yb)  # every rank decides alike
                        loss = loss * (world.size / len(yb))
                    if not math.isfinite(value):
                        return self._diverged(f"the loss became {value} at epoch {epoch + 1}, step {step + 1}")
                    if loss is not None:
                        loss.backward()
                    if kind == "onecycle" and step:  # the one schedule that moves every batch
                        _set_lr(opt, lr_at(self.schedule, epoch, kind, step, steps))
                    optimizer_step(opt, params, args.clip_grad_norm)
                    total += value * len(yb)
                    seen += len(yb)
                    if bar is not None:
                        bar.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
        finally:
            if bar is not None:
                bar.close()
        world.align(model)
        if not _finite(model):
            return self._diverged(f"the weights became non-finite during epoch {epoch + 1}")
        if not world.lead:  # rank 0 alone evaluates and writes; the others go on to the next epoch
            self.saved = epoch + 1
            return True
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            test_loss, test_acc, _ = evaluate(model, xte, yte)
        seconds = time.perf_counter() - t0
        history = self.history
        for name, value in zip(_COLUMNS[1:], (total / max(seen, 1), test_loss, test_acc, seconds, lr)):
            history[name].append(value)
        try:
            self._write(lambda: save_checkpoint(self.ckpt, model, opt, epoch + 1, history,
                                                _config(args, self.schedule)))
        except KeyboardInterrupt:
            if _epoch_of(self.ckpt) == epoch + 1:  # interrupted just after the file was complete
                self.saved = epoch + 1
            raise
        self.saved = epoch + 1
        self._write(lambda: write_metrics(self.metrics, history))
        self.listed = epoch + 1
        self._write(lambda: self.plot.epoch_done(history))
        # printed once the epoch is saved: an output that closes (train | head -1) loses no work
        print(f"epoch {epoch + 1:>3}/{args.epochs}  train loss {history['train_loss'][-1]:.4f}  "
              f"test loss {test_loss:.4f}  test acc {100 * test_acc:6.2f}%  {seconds:5.2f}s  lr {lr:.2e}",
              flush=True)
        return True

    def _write(self, write):
        try:
            write()
        except OSError as e:
            self.failed = True
            raise WriteError(f"{e}; {self.kept(good=True)}") from None

    def close(self):
        """Leave files that agree: the history of what the checkpoint holds in metrics.csv and curves.png."""
        for values in self.history.values():
            del values[self.saved :]  # an epoch interrupted between its metrics and its checkpoint
        if self.failed or not self.world.lead:
            return  # a write already failed (a full disk, say): do not try the others again
        try:
            if self.listed < self.saved:
                write_metrics(self.metrics, self.history)
                self.listed = self.saved
            self.plot.flush(self.history)
        except OSError as e:  # already stopping: say so, keep the first reason
            print(f"python -m chainrule train: warning: {e}", file=sys.stderr)

    def kept(self, good=False):
        """What is on disk for --resume, as the end of a one-line message (``good``: after a failure)."""
        if self.saved > 0:
            which = (f"the last good checkpoint (epoch {self.saved})" if good
                     else f"the checkpoint of the last finished epoch ({self.saved})")
            plot = " (curves.png shows it)" if os.path.exists(self.plot.path) else ""
            return f"{which} is kept in {self.ckpt}{plot}"
        if os.path.exists(self.ckpt) and self.fresh:
            return f"no checkpoint was written ({self.ckpt} is from an earlier run and untouched)"
        return "no checkpoint was written"

    def _diverged(self, what):
        print(f"python -m chainrule train: stopped: {what}; {self.kept(good=True)}. Try a smaller --lr",
              file=sys.stderr)
        return False
