"""The checkpoint DIR/model.safetensors: writing it, reading it back, and what a --resume may not change."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from ...io import load, save
from ...optim import flatten_state_dict
from .errors import TrainError
from .metrics import _COLUMNS
from .models import MODELS
from .schedule import SCHEDULES, lr_at

__all__ = ["CHECKPOINT", "save_checkpoint", "read_checkpoint", "check_resume", "restore"]

CHECKPOINT = "model.safetensors"
# a resumed run continues exactly only with the checkpoint's values of these
_FIXED_ON_RESUME = ("model", "optimizer", "data", "seed", "batch_size", "lr_schedule", "clip_grad_norm")
# what a checkpoint written before an option existed ran with
_BEFORE_THE_OPTION = {"lr_schedule": "cosine", "clip_grad_norm": None}


def _data_key(spec):
    """What --data names, for storing and comparing: 'digits', or the folder's absolute, resolved path."""
    return spec if spec == "digits" else os.path.realpath(spec)


def _config(args, schedule):
    return {"model": args.model, "optimizer": args.optimizer, "data": _data_key(args.data), "seed": args.seed,
            "batch_size": args.batch_size, "lr": args.lr, "epochs": args.epochs, "schedule": schedule,
            "lr_schedule": args.lr_schedule, "clip_grad_norm": args.clip_grad_norm}


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
    except (ValueError, RecursionError):
        raise TrainError(f"--resume: {path} has no readable training settings") from None
    if "epoch" not in tensors or not config:
        raise TrainError(f"--resume: {path} is not a checkpoint written by 'python -m chainrule train'")
    problem = _check_schema(tensors, config)
    if problem is not None:
        raise TrainError(f"--resume: {path}: {problem}")
    return tensors, config


# ---- what a checkpoint may hold: checked before anything is built from it ----------------------------
MAX_EPOCHS = 10_000_000  # --epochs beyond this would take years; a larger saved number is a crafted file
_MAX_SEGMENTS = 10_000  # one per resume that changed --epochs or --lr


def _int_in(low, high):
    def check(v):
        if isinstance(v, int) and not isinstance(v, bool) and low <= v <= high:
            return None
        return f"an integer in {low}..{high}"
    return check


def _number(positive):
    def check(v):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if ok and (v > 0 if positive else v >= 0):
            return None
        return "a finite number " + ("> 0" if positive else ">= 0")
    return check


def _one_of(*choices):
    return lambda v: None if v in choices and isinstance(v, str) else "one of " + ", ".join(choices)


def _text(v):
    return None if isinstance(v, str) and v else "a non-empty string"


def _schedule(v):
    need = (f"a list of 1..{_MAX_SEGMENTS} [start, end, lr] segments, starts rising from 0, each end past its "
            f"start, lr a finite number >= 0")
    if v is None:
        return None  # written before the schedule was saved: one cosine over the saved epochs
    if not isinstance(v, list) or not 1 <= len(v) <= _MAX_SEGMENTS:
        return need
    last = -1
    for seg in v:
        if not (isinstance(seg, list) and len(seg) == 3):
            return need
        start, end, lr = seg
        if (_int_in(0, MAX_EPOCHS)(start) or _int_in(1, MAX_EPOCHS)(end) or _number(False)(lr)
                or start <= last or end <= start or (last < 0 and start != 0)):
            return need
        last = start
    return None


# every field of the saved settings: (required, check); a check returns None or what the field must be
CONFIG_SCHEMA = {
    "model": (True, _one_of(*MODELS)),
    "optimizer": (True, _one_of("sgd", "adam")),
    "data": (True, _text),
    "seed": (True, _int_in(0, 2**63 - 1)),
    "batch_size": (True, _int_in(1, 2**31 - 1)),
    "lr": (True, _number(True)),
    "epochs": (True, _int_in(1, MAX_EPOCHS)),
    "schedule": (False, _schedule),
    # absent in checkpoints written before these options: cosine, no clipping
    "lr_schedule": (False, _one_of(*SCHEDULES)),
    "clip_grad_norm": (False, lambda v: None if v is None else _number(True)(v)),
}


def _check_schema(tensors, config):
    """None if the settings and the epoch/metrics tensors are what ``save_checkpoint`` writes, else what is not.

    >>> import numpy as np
    >>> good = {"model": "mlp", "optimizer": "adam", "data": "digits", "seed": 0, "batch_size": 32, "lr": 0.002,
    ...         "epochs": 2, "schedule": [[0, 2, 0.002]]}
    >>> _check_schema({"epoch": np.array(0)}, good) is None
    True
    >>> _check_schema({"epoch": np.array(2)}, good)
    'field metrics.train_loss is missing'
    >>> _check_schema({"epoch": np.array(-5)}, good)
    'field epoch must be a single integer in 0..2 (the saved epochs), got -5'
    """
    if not isinstance(config, dict):
        return f"field config must be a JSON object of training settings, got {type(config).__name__}"
    for key in config:
        if key not in CONFIG_SCHEMA:
            shown = key if key.isidentifier() else _short(key)
            return f"field config.{shown} is not a training setting"
    for key, (required, check) in CONFIG_SCHEMA.items():
        if key not in config:
            if required:
                return f"field config.{key} is missing"
            continue
        need = check(config[key])
        if need is not None:
            return f"field config.{key} must be {need}, got {_short(config[key])}"
    epoch, epochs = tensors["epoch"], config["epochs"]
    if epoch.ndim != 0 or epoch.dtype.kind not in "iu" or not 0 <= int(epoch) <= epochs:
        return f"field epoch must be a single integer in 0..{epochs} (the saved epochs), got {_short(epoch)}"
    epoch = int(epoch)
    for name in _COLUMNS[1:]:
        value = tensors.get("metrics." + name)
        if value is None:
            if name != "lr" and epoch > 0:  # metrics.csv is rewritten from them on the next epoch
                return f"field metrics.{name} is missing"
            continue
        # lr is recomputed from the schedule when short; the others are the history metrics.csv shows
        if value.ndim != 1 or value.dtype.kind not in "iuf" or (name != "lr" and len(value) < epoch):
            return (f"field metrics.{name} must be a list of at least {epoch} numbers (one per epoch), "
                    f"got {value.dtype} of shape {value.shape}")
    return None


# what each optimizer keeps per parameter: an array of the parameter's shape, or one number
_OPTIMIZER_STATE = {"adam": {"exp_avg": "param", "exp_avg_sq": "param", "step": "number"},
                    "sgd": {"momentum_buffer": "param"}}
_TOP_LEVEL = ("model.", "optimizer.", "metrics.")


def _check_optimizer_state(tensors, name, model, opt):
    """None if the checkpoint's optimizer.* tensors are what ``opt`` (a fresh ``name`` optimizer for
    ``model``) would save, else what is not; nothing is changed."""
    for key in tensors:
        if key != "epoch" and not key.startswith(_TOP_LEVEL):
            return f"field {_short(key)} is not part of a checkpoint"
    fresh = flatten_state_dict(opt.state_dict(), prefix="optimizer.")
    params = list(model.parameters())
    for key, want in fresh.items():
        got = tensors.get(key)
        if got is None:
            return f"field {key} is missing"
        is_bool = want.dtype.kind == "b"
        if got.shape != want.shape or (got.dtype.kind == "b") != is_bool or got.dtype.kind not in "biuf":
            what = "a bool" if is_bool else "numbers"
            return f"field {key} must be {what} of shape {want.shape}, got {got.dtype} of shape {got.shape}"
        if key.endswith(".params"):
            if got.tolist() != want.tolist():
                return f"field {key} must list the parameters 0..{len(params) - 1}, got {_short(got)}"
        elif got.dtype.kind != "b" and not (np.isfinite(got).all() and (got >= 0).all()):
            return f"field {key} must be finite and >= 0, got {_short(got)}"
        elif key.endswith(".lr") and not float(got) > 0:
            return f"field {key} must be > 0, got {_short(got)}"
    per_param = _OPTIMIZER_STATE[name]
    found = {}
    for key, value in tensors.items():
        if not key.startswith("optimizer.") or key in fresh:
            continue
        parts = key.split(".", 3)
        if (len(parts) != 4 or parts[1] != "state" or not parts[2].isdigit() or int(parts[2]) >= len(params)
                or parts[3] not in per_param):
            return f"field {_short(key)} is not part of {name}'s state for this model"
        i = int(parts[2])
        kind = per_param[parts[3]]
        shape = params[i].shape if kind == "param" else ()
        if value.shape != shape or value.dtype.kind not in "iuf" or not np.isfinite(value).all():
            return f"field {key} must be finite numbers of shape {shape}, got {value.dtype} of shape {value.shape}"
        found.setdefault(i, set()).add(parts[3])
    for i, names in found.items():
        if names != set(per_param):
            lost = sorted(set(per_param) - names)[0]
            return f"field optimizer.state.{i}.{lost} is missing"
    return None


def _short(value, most=60):
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= most else text[: most - 3] + "..."


def check_resume(args, saved, ckpt):
    """Refuse a --resume that changes a setting it must keep (``_FIXED_ON_RESUME``), naming the checkpoint's."""
    for key in _FIXED_ON_RESUME:
        given, before = getattr(args, key, None), saved.get(key, _BEFORE_THE_OPTION.get(key))
        # no clipping (None) is a setting of its own; a None elsewhere is a field older checkpoints lack
        if given is None or (before is None and key != "clip_grad_norm"):
            continue
        same = _data_key(given) == _data_key(before) if key == "data" else given == before
        if not same:
            flag = "--" + key.replace("_", "-")
            why = ("" if key in ("model", "optimizer") else
                   f"; a resumed run continues exactly as the first one would have, so {flag} stays as it "
                   f"was (train afresh in another --out to change it)")
            was = f"without {flag}" if before is None else f"with {flag} {before}"
            raise TrainError(f"--resume: {ckpt} was trained {was}, not {given}{why}")


def restore(ckpt, tensors, saved, model, opt, steps=1):
    """(epochs done, schedule, metric history) of a checkpoint read for --resume, its state loaded into
    ``model`` and ``opt``; (0, None, an empty history) for a fresh run (``tensors`` None). ``steps``: batches
    per epoch."""
    history = {name: [] for name in _COLUMNS[1:]}
    start, schedule = 0, None
    if tensors is not None:
        problem = _check_optimizer_state(tensors, saved["optimizer"], model, opt)
        if problem is not None:
            raise TrainError(f"--resume: {ckpt}: {problem}")
        try:  # all or nothing: a model state that does not fit changes no parameter
            model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        except (RuntimeError, TypeError, ValueError) as e:
            text = str(e).replace("\n\t", "; ")
            raise TrainError(f"--resume: {ckpt} does not fit this model: {text}") from None
        try:  # the layout is checked above; the optimizer judges its hyperparameters' values (betas < 1)
            opt.load_state_dict({k[10:]: v for k, v in tensors.items() if k.startswith("optimizer.")})
        except (TypeError, ValueError, KeyError) as e:
            raise TrainError(f"--resume: {ckpt}: field optimizer.param_groups: {e}") from None
        start = int(tensors["epoch"])
        # checkpoints from before the schedule was saved ran one cosine over their --epochs
        schedule = saved.get("schedule") or [[0, saved["epochs"], saved["lr"]]]
        for name in history:
            history[name] = [float(v) for v in tensors.get("metrics." + name, [])][:start]
        if len(history["lr"]) < start:
            kind = saved.get("lr_schedule", "cosine")
            history["lr"] = [lr_at(schedule, e, kind, 0, steps) for e in range(start)]
    return start, schedule, history


def _epoch_of(ckpt):
    """The epoch a checkpoint on disk holds, or None."""
    try:
        return int(load(ckpt)["epoch"])
    except (OSError, ValueError, KeyError):
        return None
