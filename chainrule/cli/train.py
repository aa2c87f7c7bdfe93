"""``python -m chainrule train``: train an MLP or a CNN on the bundled digits (or MNIST IDX files), resumably.

Every epoch prints one line and rewrites DIR/metrics.csv and the checkpoint
DIR/model.safetensors (model, optimiser state, epoch, learning-rate schedule
and the metric history), each written atomically. DIR/curves.png is rewritten
after the first epoch, after later ones whenever that costs under a tenth of
the time since the last plot (on the bundled digits an epoch takes a fraction
of the 0.1-0.3 s a plot takes), and always when the run ends, stops on a
non-finite loss or is interrupted, so it always ends up matching metrics.csv.
The data order of epoch e and any dropout mask come from seeds derived from
(--seed, e), and the learning rate of epoch e from the schedule saved in the
checkpoint, so a run resumed from the checkpoint of epoch e continues exactly
as an uninterrupted run would.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import math
import os
import sys
import time

import numpy as np

__all__ = ["register", "run", "main", "build_model"]

DEFAULT_EPOCHS = 20
DEFAULT_BATCH = 32
DEFAULT_LR = {"adam": 2e-3, "sgd": 0.05}
SGD_MOMENTUM = 0.9
PROGRESS_INTERVAL = 0.1  # seconds between progress-bar redraws (tqdm's default)
CHECKPOINT = "model.safetensors"
IDX_FILES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
DESCRIPTION = """\
Train a classifier and report its test accuracy. With the defaults, an MLP
(64-256-256-10, ReLU) learns scikit-learn's bundled 8x8 digits in 20 epochs of
Adam with a cosine learning-rate schedule. Writes DIR/metrics.csv,
DIR/curves.png and DIR/model.safetensors (model, optimiser state, epoch and
the learning-rate schedule).

--resume continues from that checkpoint exactly, as if the run had never
stopped. Resuming with a different --epochs (say 20 after a finished 10-epoch
run) does not restart the schedule: the learning rate continues from the value
the checkpoint's last epoch used and anneals (cosine) to 0 over the new
remaining epochs. Resuming with a different --lr restarts the annealing from
that value over the remaining epochs. --seed and --batch-size cannot change on
resume (the data order would no longer be the one an uninterrupted run sees):
start a new run, in another --out, to change them. --data DIR is remembered as
an absolute path, so --resume works from any working directory.

Ctrl-C stops at once and keeps the checkpoint of the last finished epoch (and
curves.png) for --resume; the exit code is 130. A non-finite loss stops with
exit code 1, keeping the last good checkpoint.
"""


class TrainError(Exception):
    """A problem the user can fix (missing files, a checkpoint that does not match): exit code 2."""

    code = 2


class WriteError(TrainError):
    """An output file could not be written during training (a full disk, say): exit code 1."""

    code = 1


# ---- arguments ---------------------------------------------------------------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_arguments(parser):
    """The train command's options (shared by ``register`` and ``main``)."""
    parser.add_argument("--model", choices=("mlp", "cnn"), default=None,
                        help="mlp: 64-256-256-10 with ReLU; cnn: two 3x3 conv + max-pool blocks (32, 64 channels), "
                             "then 128 hidden units (default: mlp)")
    parser.add_argument("--epochs", type=_positive_int, default=None,
                        help=f"train until this many epochs are done, resumed ones included; with --resume, a new "
                             f"number keeps the learning rate where the checkpoint left it and anneals it to 0 by "
                             f"this epoch (default: {DEFAULT_EPOCHS}, or the checkpoint's)")
    parser.add_argument("--batch-size", type=_positive_int, default=None,
                        help=f"mini-batch size; fixed on --resume (default: {DEFAULT_BATCH})")
    parser.add_argument("--lr", type=_positive_float, default=None,
                        help="peak learning rate of the cosine schedule; with --resume, a new value restarts the "
                             "annealing from it (default: 0.002 for adam, 0.05 for sgd, or the checkpoint's)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default=None,
                        help=f"adam, or sgd with momentum {SGD_MOMENTUM} (default: adam)")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="seed for the initial weights and the data order; fixed on --resume (default: 0)")
    parser.add_argument("--data", default=None, metavar="digits|DIR",
                        help="'digits' (bundled, 1438 train / 359 test images) or a folder holding the four MNIST "
                             "IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                             "t10k-labels-idx1-ubyte (each may be .gz) (default: digits)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output folder (default: runs/<model>-<data>, e.g. runs/mlp-digits)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from DIR/model.safetensors exactly (its settings are the defaults; a different "
                             "--model, --optimizer, --data, --seed or --batch-size is refused)")
    parser.add_argument("--threads", type=_positive_int, default=1,
                        help="BLAS threads; one is fastest for these small models and steady on a busy machine "
                             "(default: 1; ignored when OPENBLAS_NUM_THREADS or OMP_NUM_THREADS is set)")
    parser.add_argument("--no-progress", action="store_true",
                        help="do not show the progress bar (it is only shown when stderr is a terminal)")
    return parser


def register(subparsers):
    """Add the ``train`` subcommand to the ``python -m chainrule`` dispatcher."""
    parser = subparsers.add_parser(
        "train", help="train a model on the bundled digits (or MNIST IDX files)", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m chainrule train", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    return add_arguments(parser)


def main(argv=None):
    """Run ``train`` with ``argv`` (default: sys.argv[1:]); returns the exit code.

    >>> import tempfile
    >>> main(["--epochs", "1", "--no-progress", "--out", tempfile.mkdtemp()])  # doctest: +SKIP
    0
    """
    args = build_parser().parse_args(argv)
    return run(args)


# ---- data and models -----------------------------------------------------------------
def load_data(spec):
    """((X_train, y_train), (X_test, y_test)) with X float32 in [0, 1] of shape (n, features)."""
    from ..data import load_digits, load_idx

    if spec == "digits":
        return load_digits()
    if not os.path.isdir(spec):
        raise TrainError(f"--data: {spec!r} is neither 'digits' nor a folder")
    found = {}
    for key, names in IDX_FILES.items():
        for name in names:
            for suffix in ("", ".gz"):
                path = os.path.join(spec, name + suffix)
                if os.path.exists(path):
                    found.setdefault(key, path)
        if key not in found:
            raise TrainError(f"--data: {spec!r} has no {names[0]} (or {names[0]}.gz); an MNIST folder needs all of "
                             + ", ".join(n[0] for n in IDX_FILES.values()))
    try:
        arrays = {key: load_idx(path) for key, path in found.items()}
    except (ValueError, OSError) as e:
        raise TrainError(f"--data: {e}") from None

    def images(key):
        a = arrays[key]
        if a.ndim != 3:
            raise TrainError(f"--data: {found[key]} should hold images (n, rows, cols), has shape {a.shape}")
        scale = 255.0 if a.dtype == np.uint8 else max(float(a.max()), 1.0)
        return (a.reshape(len(a), -1).astype(np.float32) / np.float32(scale)).astype(np.float32)

    def labels(key, n):
        a = arrays[key]
        if a.ndim != 1 or len(a) != n:
            raise TrainError(f"--data: {found[key]} should hold {n} labels, has shape {a.shape}")
        return a.astype(np.int64)

    xtr, xte = images("train_images"), images("test_images")
    if xtr.shape[1] != xte.shape[1]:
        raise TrainError(f"--data: train images have {xtr.shape[1]} pixels, test images {xte.shape[1]}")
    return (xtr, labels("train_labels", len(xtr))), (xte, labels("test_labels", len(xte)))


def _labels_text(labels, most=12):
    """``0, 1, 200`` or, for many, the first and last few: ``0, 1, 2, ..., 198, 199 (200 labels)``."""
    labels = [int(v) for v in labels]
    if len(labels) <= most:
        return ", ".join(map(str, labels))
    head, tail = labels[: most // 2], labels[-(most // 4) :]
    return f"{', '.join(map(str, head))}, ..., {', '.join(map(str, tail))} ({len(labels)} labels)"


def count_classes(y_train, y_test):
    """The number of classes, 1 + the largest label; refuses labels that would leave most classes empty.

    A model gets one output per label in 0..max, so labels {0, 1, 200} would build 201 classes, 198 of
    them never seen in training: refused (exit 2), naming the labels found. A few classes without a
    training example get a note on stderr.

    >>> import numpy as np
    >>> count_classes(np.array([0, 1, 2, 1]), np.array([2, 0]))
    3
    """
    labels = np.unique(np.concatenate([y_train, y_test]))
    if labels.size == 0:
        raise TrainError("--data: there are no labels")
    if labels[0] < 0:
        raise TrainError(f"--data: labels must be 0 or more, found {_labels_text(labels)}")
    classes = int(labels[-1]) + 1
    missing = np.setdiff1d(np.arange(classes), np.unique(y_train))
    if 2 * len(missing) > classes:
        raise TrainError(
            f"--data: the labels found are {_labels_text(labels)}, so a model would need {classes} classes "
            f"(0..{classes - 1}) and {len(missing)} of them have no training example; number the classes "
            f"0, 1, ..., K-1"
        )
    if len(missing):
        print(f"note: {len(missing)} of the {classes} classes have no training example: {_labels_text(missing)} "
              f"(the labels found are {_labels_text(labels)})", file=sys.stderr)
    return classes


def build_model(kind, features, classes):
    """The MLP or CNN for inputs of ``features`` pixels (a square image for the CNN)."""
    from .. import nn

    if kind == "mlp":
        return nn.Sequential(nn.Linear(features, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, classes))
    side = math.isqrt(features)
    if side * side != features or side < 4:
        raise TrainError(f"--model cnn needs square images, but the data has {features} pixels per sample")
    flat = 64 * (side // 4) ** 2
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, 128), nn.ReLU(), nn.Linear(128, classes),
    )


def _shape_input(kind, x):
    if kind == "cnn":
        side = math.isqrt(x.shape[1])
        return x.reshape(len(x), 1, side, side)
    return x


def _epoch_seed(seed, epoch):
    """A seed for epoch ``epoch``'s shuffling and dropout, independent of how the run was split up."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def lr_at(schedule, epoch):
    """The learning rate of (0-based) ``epoch``: cosine annealing within the schedule's segment holding it.

    ``schedule`` is a list of ``[start, end, lr]`` segments, each annealing from
    ``lr`` at epoch ``start`` towards 0 at epoch ``end``; a segment runs until
    the next one starts. A fresh run has one, ``[[0, epochs, lr]]``; resuming
    with a new --epochs or --lr appends one (see ``plan_schedule``).

    >>> lr_at([[0, 10, 1.0]], 0), lr_at([[0, 10, 1.0]], 5)
    (1.0, 0.5)
    >>> lr_at([[0, 10, 1.0], [10, 20, 0.5]], 15)
    0.25
    """
    for start, end, lr in reversed(schedule):
        if epoch >= start:
            return lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - start) / (end - start)))
    raise ValueError(f"epoch {epoch} precedes the schedule {schedule}")


def plan_schedule(saved, start, epochs, lr, restart_lr):
    """The schedule for training epochs ``start..epochs-1`` after a checkpoint of ``start`` epochs.

    With the checkpoint's --epochs and --lr the saved ``schedule`` is kept, so
    resuming is exact. A new --epochs anneals from the LR the last trained
    epoch used (no warm restart); ``restart_lr`` (a new --lr) anneals from
    ``lr`` instead. Either way the new segment ends at ``epochs``.

    >>> plan_schedule([[0, 2, 1.0]], 2, 4, 1.0, False)
    [[0, 2, 1.0], [2, 4, 0.5]]
    """
    if saved is None or not saved:
        return [[0, epochs, lr]]
    if start >= epochs or (saved[-1][1] == epochs and not restart_lr):
        return saved
    begin = lr if restart_lr else lr_at(saved, start - 1)
    return [seg for seg in saved if seg[0] < start] + [[start, epochs, begin]]


def evaluate(model, x, y, batch=512):
    """(mean cross-entropy, accuracy, correct count) on (x, y), in eval mode without recording."""
    import chainrule as cr

    from ..nn import functional as F

    model.eval()
    total, correct = 0.0, 0
    with cr.no_grad():
        for i in range(0, len(x), batch):
            logits = model(cr.tensor(x[i : i + batch]))
            yb = y[i : i + batch]
            total += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += int((logits.data.argmax(axis=1) == yb).sum())
    model.train()
    n = max(len(x), 1)
    return total / n, correct / n, correct


# ---- checkpoints, metrics and the plot ---------------------------------------------------
_COLUMNS = ("epoch", "train_loss", "test_loss", "test_acc", "seconds", "lr")


def _config(args, schedule):
    return {"model": args.model, "optimizer": args.optimizer, "data": _data_key(args.data), "seed": args.seed,
            "batch_size": args.batch_size, "lr": args.lr, "epochs": args.epochs, "schedule": schedule}


def save_checkpoint(path, model, opt, epoch, history, config):
    from ..io import save
    from ..optim import flatten_state_dict

    state = {"model." + k: v for k, v in model.state_dict().items()}
    state.update(flatten_state_dict(opt.state_dict(), prefix="optimizer."))
    state["epoch"] = np.array(epoch, dtype=np.int64)
    for name in _COLUMNS[1:]:
        state["metrics." + name] = np.asarray(history[name], dtype=np.float64)
    save(state, path, metadata={"chainrule": "train", "config": json.dumps(config)})


def read_checkpoint(path):
    from ..io import load

    try:
        tensors, meta = load(path, with_metadata=True)
    except FileNotFoundError:
        raise TrainError(f"--resume: there is no checkpoint {path} (train without --resume first)") from None
    except OSError as e:
        raise TrainError(f"--resume: cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise TrainError(f"--resume: {e}") from None
    try:
        config = json.loads(meta.get("config", "{}"))
    except ValueError:
        raise TrainError(f"--resume: {path} has no readable training settings") from None
    if "epoch" not in tensors or not config:
        raise TrainError(f"--resume: {path} is not a checkpoint written by 'python -m chainrule train'")
    return tensors, config


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
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
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


# ---- the command ------------------------------------------------------------------------
def _data_key(spec):
    """What --data names, for storing and comparing: 'digits', or the folder's absolute, resolved path."""
    return spec if spec == "digits" else os.path.realpath(spec)


# a resumed run continues exactly only with the checkpoint's values of these
_FIXED_ON_RESUME = ("model", "optimizer", "data", "seed", "batch_size")


def _resolve(args):
    """Fill unset options from the checkpoint (with --resume) and then from the defaults."""
    saved, tensors = {}, None
    if args.out is None:
        model = args.model or "mlp"
        data = args.data or "digits"
        name = "digits" if data == "digits" else os.path.basename(os.path.normpath(data)) or "data"
        args.out = os.path.join("runs", f"{model}-{name}")
    blocked = _file_in_the_way(args.out)
    if blocked is not None:
        raise TrainError(f"--out: {blocked} is a file, not a folder")
    ckpt = os.path.join(args.out, CHECKPOINT)
    if args.resume:
        tensors, saved = read_checkpoint(ckpt)
        for key in _FIXED_ON_RESUME:
            given, before = getattr(args, key), saved.get(key)
            if given is None or before is None:
                continue
            same = _data_key(given) == _data_key(before) if key == "data" else given == before
            if not same:
                flag = "--" + key.replace("_", "-")
                why = ("" if key in ("model", "optimizer") else
                       f"; a resumed run continues exactly as the first one would have, so {flag} stays as it "
                       f"was (train afresh in another --out to change it)")
                raise TrainError(f"--resume: {ckpt} was trained with {flag} {before}, not {given}{why}")
    for key, default in (("model", "mlp"), ("optimizer", "adam"), ("data", "digits"), ("seed", 0),
                         ("batch_size", DEFAULT_BATCH), ("epochs", DEFAULT_EPOCHS)):
        if getattr(args, key) is None:
            setattr(args, key, saved.get(key, default))
    # a --lr given on --resume that differs from the checkpoint's restarts the annealing (see plan_schedule)
    args.restart_lr = args.resume and args.lr is not None and args.lr != saved.get("lr")
    if args.lr is None:
        args.lr = saved.get("lr", DEFAULT_LR[args.optimizer])
    return ckpt, tensors, saved


def _file_in_the_way(path):
    """The first of ``path`` and its parent folders that exists but is not a folder, or None."""
    path = os.path.normpath(path)
    while path and path not in (os.sep, os.curdir):
        if os.path.exists(path):
            return None if os.path.isdir(path) else path
        path = os.path.dirname(path)
    return None


def _prepare_out(path):
    """Create the output folder, or say in one line why it cannot be used."""
    try:
        os.makedirs(path, exist_ok=True)
    except FileExistsError:
        raise TrainError(f"--out: {path} is a file, not a folder") from None
    except OSError as e:
        raise TrainError(f"--out: cannot create the folder {path}: {e.strerror or e}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise TrainError(f"--out: cannot write into the folder {path} (permission denied)")


def _make_optimizer(args, params):
    from .. import optim

    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr, momentum=SGD_MOMENTUM)
    return optim.Adam(params, lr=args.lr)


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


_BLAS_THREADS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                 "openblas_set_num_threads64_")


def _blas_thread_setters():
    """(set, get) for the OpenBLAS that NumPy loaded, found among the process's libraries; None if unknown."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_THREADS:
            setter = getattr(lib, name, None)
            getter = getattr(lib, name.replace("set_", "get_"), None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                return setter, getter
    return None


@contextlib.contextmanager
def blas_threads(n):
    """Run with ``n`` BLAS threads when the BLAS can be told (OpenBLAS on Linux); the user's env vars win.

    Multi-threaded BLAS on matrices this small spends its time synchronising,
    and on a loaded 2-core machine it measured up to 9x slower than one thread.
    """
    found = None
    if not (os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")):
        found = _blas_thread_setters()
    if found is None:
        yield
        return
    setter, getter = found
    before = getter()
    setter(ctypes.c_int(n))
    try:
        yield
    finally:
        setter(ctypes.c_int(before))


def _finite(model):
    return all(np.isfinite(p.data).all() for p in model.parameters())


def run(args) -> int:
    """Train as ``args`` says; returns the exit code.

    0 done, 1 stopped (a non-finite loss, an output that could not be written), 2 bad input, 130
    interrupted (Ctrl-C), each with one line on stderr instead of a traceback.
    """
    try:
        with blas_threads(args.threads):
            return _train(args)
    except TrainError as e:
        print(f"python -m chainrule train: error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:  # before the first epoch started (loading the data, building the model)
        print("python -m chainrule train: interrupted before training started; nothing was written",
              file=sys.stderr)
        return 130


def _train(args):
    import chainrule as cr

    from ..data import TensorDataset

    ckpt, tensors, saved = _resolve(args)
    (xtr, ytr), (xte, yte) = load_data(args.data)
    classes = count_classes(ytr, yte)
    cr.random.seed(args.seed)
    model = build_model(args.model, xtr.shape[1], classes)
    opt = _make_optimizer(args, model.parameters())
    xtr, xte = _shape_input(args.model, xtr), _shape_input(args.model, xte)
    history = {name: [] for name in _COLUMNS[1:]}
    start, schedule = 0, None
    if tensors is not None:
        try:
            model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
            opt.load_state_dict({k[10:]: v for k, v in tensors.items() if k.startswith("optimizer.")})
        except (RuntimeError, ValueError) as e:
            raise TrainError(f"--resume: {ckpt} does not fit this model: {e}") from None
        start = int(tensors["epoch"])
        # checkpoints from before the schedule was saved ran one cosine over their --epochs
        schedule = saved.get("schedule") or [[0, saved["epochs"], saved["lr"]]]
        for name in history:
            history[name] = [float(v) for v in tensors.get("metrics." + name, [])][:start]
        if len(history["lr"]) < start:
            history["lr"] = [lr_at(schedule, e) for e in range(start)]
    resumed_schedule = schedule
    schedule = plan_schedule(schedule, start, args.epochs, args.lr, args.restart_lr)
    if tensors is None and os.path.exists(ckpt):
        print(f"note: starting afresh; {ckpt} will be replaced (pass --resume to continue it)", file=sys.stderr)
    _prepare_out(args.out)
    todo = f"epochs {start + 1}..{args.epochs}" if start < args.epochs else f"{start} epochs done"
    print(f"training {args.model} on {args.data}: {len(xtr)} train / {len(xte)} test samples, "
          f"{sum(p.size for p in model.parameters()):,} parameters, {args.optimizer} lr {args.lr:g}, "
          f"batch {args.batch_size}, {todo} -> {args.out}", flush=True)
    if start >= args.epochs:
        print(f"nothing to train: the checkpoint already ran {start} epoch{'s' * (start != 1)}; pass --epochs "
              f"{start + 1} or more to train further")
    elif schedule is not resumed_schedule and resumed_schedule is not None:
        why = (f"--lr changed from {saved['lr']:g} to {args.lr:g}" if args.restart_lr
               else f"--epochs changed from {resumed_schedule[-1][1]} to {args.epochs}")
        print(f"note: {why}: the learning rate starts at {schedule[-1][2]:.3g} and anneals to 0 over epochs "
              f"{start + 1}..{args.epochs}")
    trainer = _Run(args, ckpt, model, opt, history, schedule, start, fresh=tensors is None)
    dataset = TensorDataset(xtr, ytr)
    try:
        for epoch in range(start, args.epochs):
            if not trainer.epoch(epoch, dataset, xte, yte):
                return 1
        _, acc, correct = evaluate(model, xte, yte)
    except KeyboardInterrupt:
        trainer.close()
        done = trainer.saved > trainer.current  # stopped while writing or evaluating a finished epoch
        when = f"after epoch {trainer.saved}" if done else f"during epoch {trainer.current + 1}"
        more = "; continue with --resume" if trainer.saved else ""
        print(f"python -m chainrule train: interrupted {when}/{args.epochs}; {trainer.kept()}{more}", file=sys.stderr)
        return 130
    finally:
        trainer.close()
    print(f"test accuracy: {100 * acc:.2f}% ({correct}/{len(xte)})")
    print(f"wrote {os.path.join(args.out, 'metrics.csv')}, {os.path.join(args.out, 'curves.png')}, {ckpt}")
    return 0


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


class _Run:
    """One run's epochs: trains one, then writes the checkpoint, metrics.csv and curves.png; knows what
    is kept on disk when it stops early (a non-finite loss, Ctrl-C, a write that failed)."""

    def __init__(self, args, ckpt, model, opt, history, schedule, start, fresh):
        self.args, self.ckpt, self.model, self.opt = args, ckpt, model, opt
        self.history, self.schedule, self.fresh = history, schedule, fresh
        self.current = start  # the epoch being trained (0-based)
        self.saved = start  # epochs the checkpoint on disk holds
        self.listed = start  # epochs metrics.csv holds
        self.failed = False  # a write failed
        self.metrics = os.path.join(args.out, "metrics.csv")
        self.plot = _Plot(os.path.join(args.out, "curves.png"), _title(args))

    def epoch(self, epoch, dataset, xte, yte):
        """Train epoch ``epoch`` and write its files; False when it stopped on a non-finite loss."""
        import chainrule as cr

        from ..data import DataLoader
        from ..nn import functional as F

        args, model, opt = self.args, self.model, self.opt
        self.current = epoch
        t0 = time.perf_counter()
        epoch_seed = _epoch_seed(args.seed, epoch)
        cr.random.seed(epoch_seed)  # dropout masks, should a model use them
        lr = lr_at(self.schedule, epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, seed=epoch_seed)
        bar, batches = _progress(loader, f"epoch {epoch + 1}/{args.epochs}", not args.no_progress)
        total, seen = 0.0, 0
        model.train()
        try:
            # an overflow is reported once, as the non-finite loss or weights it leads to, not as NumPy warnings
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for step, (xb, yb) in enumerate(batches):
                    opt.zero_grad()
                    loss = F.cross_entropy(model(cr.tensor(xb)), yb)
                    value = loss.item()
                    if not math.isfinite(value):
                        return self._diverged(f"the loss became {value} at epoch {epoch + 1}, step {step + 1}")
                    loss.backward()
                    opt.step()
                    total += value * len(yb)
                    seen += len(yb)
                    if bar is not None:
                        bar.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
        finally:
            if bar is not None:
                bar.close()
        if not _finite(model):
            return self._diverged(f"the weights became non-finite during epoch {epoch + 1}")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            test_loss, test_acc, _ = evaluate(model, xte, yte)
        seconds = time.perf_counter() - t0
        history = self.history
        for name, value in zip(_COLUMNS[1:], (total / max(seen, 1), test_loss, test_acc, seconds, lr)):
            history[name].append(value)
        print(f"epoch {epoch + 1:>3}/{args.epochs}  train loss {history['train_loss'][-1]:.4f}  "
              f"test loss {test_loss:.4f}  test acc {100 * test_acc:6.2f}%  {seconds:5.2f}s  lr {lr:.2e}",
              flush=True)
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
        if self.failed:
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


def _epoch_of(ckpt):
    """The epoch a checkpoint on disk holds, or None."""
    from ..io import load

    try:
        return int(load(ckpt)["epoch"])
    except (OSError, ValueError, KeyError):
        return None


def _title(args):
    return f"{args.model} on {args.data if args.data == 'digits' else os.path.basename(os.path.normpath(args.data))}"


if __name__ == "__main__":
    sys.exit(main())
