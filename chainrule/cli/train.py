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
import math
import os
import sys

from .. import optim, random as cr_random
from ..data import TensorDataset
from .training.checkpoint import CHECKPOINT, check_resume, read_checkpoint, restore
from .training.data import count_classes, load_data
from .training.distributed import World, join
from .training.errors import TrainError
from .training.loop import _Run, evaluate
from .training.models import MODELS, _shape_input, build_model
from .training.schedule import SCHEDULES, plan_schedule
from .training.threads import blas_threads

__all__ = ["register", "run", "main", "build_model"]

DEFAULT_EPOCHS = 20
DEFAULT_BATCH = 32
DEFAULT_LR = {"adam": 2e-3, "sgd": 0.05}
SGD_MOMENTUM = 0.9
DESCRIPTION = """\
Train a classifier and report its test accuracy. With the defaults, an MLP
(64-256-256-10, ReLU) learns scikit-learn's bundled 8x8 digits in 20 epochs of
Adam with a cosine learning-rate schedule (--lr-schedule picks another).
Writes DIR/metrics.csv, DIR/curves.png and DIR/model.safetensors (model,
optimiser state, epoch and the learning-rate schedule).

--resume continues from that checkpoint exactly, as if the run had never
stopped. Resuming with a different --epochs (say 20 after a finished 10-epoch
run) does not restart the schedule: the learning rate continues from the value
the checkpoint's last epoch used and anneals (cosine) to 0 over the new
remaining epochs (under step, it steps down over them; under onecycle a new
cycle peaking at --lr runs over them). Resuming with a different --lr restarts
the schedule from that value over the remaining epochs. --seed, --batch-size,
--lr-schedule and --clip-grad-norm cannot change on resume (the data order or
the steps would no longer be the ones an uninterrupted run takes): start a new
run, in another --out, to change them. --data DIR is remembered as
an absolute path, so --resume works from any working directory.

Ctrl-C stops at once and keeps the checkpoint of the last finished epoch (and
curves.png) for --resume; the exit code is 130. A non-finite loss stops with
exit code 1, keeping the last good checkpoint.
"""


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


def _positive_finite(text):
    """A --clip-grad-norm: argparse prints the one line and exits with 2 on anything else."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_arguments(parser):
    """The train command's options (shared by ``register`` and ``main``)."""
    parser.add_argument("--model", choices=MODELS, default=None,
                        help="mlp: 64-256-256-10 with ReLU; cnn: two 3x3 conv + max-pool blocks (32, 64 channels), "
                             "then 128 hidden units; edf: the EDF notes' MLP (64-256-10, Relu, then Sigmoid and "
                             "Softmax) run by chainrule.edf's hand-written backward methods; lstm and transformer read "
                             "each digit as a sequence of its rows (an LSTM of 128; one pre-norm encoder layer of "
                             "d_model 64, 4 heads) (default: mlp)")
    parser.add_argument("--epochs", type=_positive_int, default=None,
                        help=f"train until this many epochs are done, resumed ones included; with --resume, a new "
                             f"number keeps the learning rate where the checkpoint left it and anneals it to 0 by "
                             f"this epoch (default: {DEFAULT_EPOCHS}, or the checkpoint's)")
    parser.add_argument("--batch-size", type=_positive_int, default=None,
                        help=f"mini-batch size; fixed on --resume (default: {DEFAULT_BATCH})")
    parser.add_argument("--lr", type=_positive_float, default=None,
                        help="peak learning rate of the schedule; with --resume, a new value restarts the "
                             "schedule from it (default: 0.002 for adam, 0.05 for sgd, or the checkpoint's)")
    parser.add_argument("--lr-schedule", choices=SCHEDULES, default=None,
                        help="how the learning rate moves from --lr: cosine anneals to 0 by the last epoch (set once "
                             "per epoch); constant keeps it; step multiplies it by 0.1 after each third of the epochs "
                             "(PyTorch's StepLR, step_size ceil(epochs/3), set per epoch); onecycle is PyTorch's "
                             "OneCycleLR with max_lr --lr over every batch of the run (cosine warm-up from lr/25 over "
                             "the first 30%%, then cosine annealing to lr/25/1e4; set per batch, metrics.csv shows "
                             "each epoch's first). Fixed on --resume (default: cosine, or the checkpoint's)")
    parser.add_argument("--clip-grad-norm", type=_positive_finite, default=None, metavar="MAX",
                        help="before each optimiser step, scale all gradients together so that their global 2-norm "
                             "is at most MAX (chainrule.nn.utils.clip_grad_norm_); fixed on --resume "
                             "(default: no clipping, or the checkpoint's)")
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
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel over MPI: run as mpiexec -n N python -m chainrule train --distributed; "
                             "each process trains on its share of every batch (--batch-size is the global batch, "
                             "so the result does not depend on N) and rank 0 alone prints and writes files "
                             '(needs pip install "chainrule[mpi]")')
    parser.add_argument("--jit", action="store_true",
                        help="trace the training step (zero_grad, forward, loss, backward) with cr.jit once per batch "
                             "shape and replay it: the same numbers with less Python per step (not with --distributed)")
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


# ---- the command ------------------------------------------------------------------------
def _resolve(args, world):
    """Fill unset options from the checkpoint (with --resume) and then from the defaults.

    With --distributed rank 0 reads the checkpoint and hands it to the others (which need no access to
    its file system)."""
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
        if world.lead:
            tensors, saved = read_checkpoint(ckpt)
            check_resume(args, saved, ckpt)
        tensors, saved = world.from_lead((tensors, saved))
    for key, default in (("model", "mlp"), ("optimizer", "adam"), ("data", "digits"), ("seed", 0),
                         ("batch_size", DEFAULT_BATCH), ("epochs", DEFAULT_EPOCHS), ("lr_schedule", "cosine"),
                         ("clip_grad_norm", None)):
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
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr, momentum=SGD_MOMENTUM)
    return optim.Adam(params, lr=args.lr)


def run(args) -> int:
    """Train as ``args`` says; returns the exit code.

    0 done, 1 stopped (a non-finite loss, an output that could not be written), 2 bad input, 130
    interrupted (Ctrl-C), each with one line on stderr instead of a traceback.
    """
    for stream in (sys.stdout, sys.stderr):  # an ASCII terminal shows a path like é/run as \xe9/run
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    started = {}  # _train puts the run here once it has one: what a Ctrl-C keeps depends on it
    world = World()
    try:
        world = join(getattr(args, "distributed", False))
        with blas_threads(args.threads):
            return world.stop(_train(args, started, world))
    except BrokenPipeError:  # the output was closed (train | head -1): stop quietly, the last epoch is saved
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's own flush at exit fails no more
        print("python -m chainrule train: the output was closed; stopped after the last saved epoch",
              file=sys.stderr)
        return 1
    except TrainError as e:
        where = "" if world.lead else f" (rank {world.rank})"
        print(f"python -m chainrule train{where}: error: {e}", file=sys.stderr)
        return world.stop(e.code)
    except KeyboardInterrupt:  # anywhere: while loading, training, saving, plotting or printing the result
        if world.lead:
            print(f"python -m chainrule train: {_interrupted(args, started.get('run'))}", file=sys.stderr)
        return world.stop(130)


def _interrupted(args, trainer):
    """What a Ctrl-C stopped and what it kept, for one line on stderr."""
    if trainer is None:
        return "interrupted before training started; nothing was written"
    if trainer.saved >= args.epochs:
        when = f"after the last epoch ({trainer.saved}/{args.epochs}) was saved"
    elif trainer.saved > trainer.current:  # stopped while writing or evaluating a finished epoch
        when = f"after epoch {trainer.saved}/{args.epochs}"
    else:
        when = f"during epoch {trainer.current + 1}/{args.epochs}"
    more = "; continue with --resume" if 0 < trainer.saved < args.epochs else ""
    return f"interrupted {when}; {trainer.kept()}{more}"


def _train(args, started, world):
    with world.quiet():
        return _train_quietly(args, started, world)


def _train_quietly(args, started, world):
    ckpt, tensors, saved = _resolve(args, world)
    (xtr, ytr), (xte, yte) = load_data(args.data)
    classes = count_classes(ytr, yte)
    cr_random.seed(args.seed)
    model = build_model(args.model, xtr.shape[1], classes)
    opt = _make_optimizer(args, model.parameters())
    xtr, xte = _shape_input(args.model, xtr), _shape_input(args.model, xte)
    steps = math.ceil(len(xtr) / args.batch_size)  # batches per epoch, the DataLoader's
    start, schedule, history = restore(ckpt, tensors, saved, model, opt, steps)
    resumed_schedule = schedule
    schedule = plan_schedule(schedule, start, args.epochs, args.lr, args.restart_lr, args.lr_schedule, steps)
    if tensors is None and os.path.exists(ckpt):
        print(f"note: starting afresh; {ckpt} will be replaced (pass --resume to continue it)", file=sys.stderr)
    if world.lead:
        _prepare_out(args.out)
    clip = "" if args.clip_grad_norm is None else f", gradient norm clipped to {args.clip_grad_norm:g}"
    todo = f"epochs {start + 1}..{args.epochs}" if start < args.epochs else f"{start} epochs done"
    across = f" across {world.size} processes" if world.size > 1 else ""
    print(f"training {args.model} on {args.data}: {len(xtr)} train / {len(xte)} test samples, "
          f"{sum(p.size for p in model.parameters()):,} parameters, {args.optimizer} lr {args.lr:g} "
          f"({args.lr_schedule}{clip}), "
          f"batch {args.batch_size}{across}, {todo} -> {args.out}", flush=True)
    if start >= args.epochs:
        print(f"nothing to train: the checkpoint already ran {start} epoch{'s' * (start != 1)}; pass --epochs "
              f"{start + 1} or more to train further")
    elif schedule is not resumed_schedule and resumed_schedule is not None:
        why = (f"--lr changed from {saved['lr']:g} to {args.lr:g}" if args.restart_lr
               else f"--epochs changed from {resumed_schedule[-1][1]} to {args.epochs}")
        how = {"cosine": "anneals to 0", "constant": "stays", "step": "steps down by 0.1 each third",
               "onecycle": "runs a new cycle"}[args.lr_schedule]
        print(f"note: {why}: the learning rate starts at {schedule[-1][2]:.3g} and {how} over epochs "
              f"{start + 1}..{args.epochs}")
    trainer = started["run"] = _Run(args, ckpt, model, opt, history, schedule, start, fresh=tensors is None,
                                    world=world)
    dataset = TensorDataset(xtr, ytr)
    try:  # a Ctrl-C is reported by run(), after close() has made the files agree
        for epoch in range(start, args.epochs):
            if not trainer.epoch(epoch, dataset, xte, yte):
                return 1
        if not world.lead:
            return 0
        _, acc, correct = evaluate(model, xte, yte)
    finally:
        trainer.close()
    print(f"test accuracy: {100 * acc:.2f}% ({correct}/{len(xte)})")
    print(f"wrote {os.path.join(args.out, 'metrics.csv')}, {os.path.join(args.out, 'curves.png')}, {ckpt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
