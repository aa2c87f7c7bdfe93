"""The checkpoint DIR/model.safetensors: writing it, reading it back, and what a --resume may not change."""

from __future__ import annotations

import json
import os

import numpy as np

from ...io import load, save
from ...optim import flatten_state_dict
from .errors import TrainError
from .metrics import _COLUMNS
from .schedule import lr_at

__all__ = ["CHECKPOINT", "save_checkpoint", "read_checkpoint", "check_resume", "restore"]

CHECKPOINT = "model.safetensors"
# a resumed run continues exactly only with the checkpoint's values of these
_FIXED_ON_RESUME = ("model", "optimizer", "data", "seed", "batch_size")


def _data_key(spec):
    """What --data names, for storing and comparing: 'digits', or the folder's absolute, resolved path."""
    return spec if spec == "digits" else os.path.realpath(spec)


def _config(args, schedule):
    return {"model": args.model, "optimizer": args.optimizer, "data": _data_key(args.data), "seed": args.seed,
            "batch_size": args.batch_size, "lr": args.lr, "epochs": args.epochs, "schedule": schedule}


def save_checkpoint(path, model, opt, epoch, history, config):
    state = {"model." + k: v for k, v in model.state_dict().items()}
    state.update(flatten_state_dict(opt.state_dict(), prefix="optimizer."))
    state["epoch"] = np.array(epoch, dtype=np.int64)
    for name in _COLUMNS[1:]:
        state["metrics." + name] = np.asarray(history[name], dtype=np.float64)
    save(state, path, metadata={"chainrule": "train", "config": json.dumps(config)})


def read_checkpoint(path):
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


def check_resume(args, saved, ckpt):
    """Refuse a --resume that changes a setting it must keep (``_FIXED_ON_RESUME``), naming the checkpoint's."""
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


def restore(ckpt, tensors, saved, model, opt):
    """(epochs done, schedule, metric history) of a checkpoint read for --resume, its state loaded into
    ``model`` and ``opt``; (0, None, an empty history) for a fresh run (``tensors`` None)."""
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
    return start, schedule, history


def _epoch_of(ckpt):
    """The epoch a checkpoint on disk holds, or None."""
    try:
        return int(load(ckpt)["epoch"])
    except (OSError, ValueError, KeyError):
        return None
