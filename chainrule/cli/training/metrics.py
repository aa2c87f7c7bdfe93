"""The run's outputs besides the checkpoint: metrics.csv and curves.png, each written atomically."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

__all__ = ["write_metrics", "plot_curves"]

_COLUMNS = ("epoch", "train_loss", "test_loss", "test_acc", "seconds", "lr")


def _atomic_write(path, write):
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:  # name the file the user knows, not the temporary one
        named = type(e)(f"cannot write {path}: {e.strerror or e}")
        named.errno = e.errno
        raise named from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_metrics(path, history):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(",".join(_COLUMNS) + "\n")
            for i in range(len(history["train_loss"])):
                row = [str(i + 1)] + [f"{history[c][i]:{'.6g' if c == 'lr' else '.6f'}}" for c in _COLUMNS[1:]]
                f.write(",".join(row) + "\n")

    _atomic_write(path, write)


def plot_curves(path, history, title):
    """Loss (train and test) and test accuracy per epoch, side by side; False when matplotlib is missing."""
    before = set(sys.modules)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    except KeyboardInterrupt:
        # an import cut short leaves half-initialised modules in sys.modules, and the next import (the plot
        # written on the way out) would fail on them: drop them so that it starts afresh
        for name in set(sys.modules) - before:
            del sys.modules[name]
        raise
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, history["train_loss"], marker="o", label="train")
    ax_loss.plot(epochs, history["test_loss"], marker="s", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    ax_loss.legend()
    ax_acc.plot(epochs, 100 * np.asarray(history["test_acc"]), marker="o", color="tab:green", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Test accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    _atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    return True


class _Plot:
    """Rewrites curves.png after the first epoch, later only while plotting costs under a tenth of the time.

    A plot takes 0.1-0.3 s; a digits epoch of the default MLP about as long.
    Plotting every epoch would double a short run, while a long run (MNIST)
    still gets a fresh plot each epoch. ``flush`` at every exit catches up.
    """

    SHARE = 0.1

    def __init__(self, path, title):
        self.path, self.title = path, title
        self.plotted = None  # how many epochs the file this run wrote shows
        self.cost = 0.0  # seconds the last plot took
        self.last = time.perf_counter()
        self.available = True

    def epoch_done(self, history):
        if self.plotted is None or time.perf_counter() - self.last >= self.cost / self.SHARE:
            self.flush(history)

    def flush(self, history):
        n = len(history["train_loss"])
        if not (n and self.available) or n == self.plotted:
            return
        t0 = time.perf_counter()
        self.available = plot_curves(self.path, history, self.title)
        if not self.available:
            print("matplotlib is not installed: skipped curves.png", file=sys.stderr)
        self.plotted, self.last = n, time.perf_counter()
        self.cost = self.last - t0


def _title(args):
    return f"{args.model} on {args.data if args.data == 'digits' else os.path.basename(os.path.normpath(args.data))}"
