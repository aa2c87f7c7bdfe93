"""The training data: scikit-learn's bundled digits or a folder of MNIST IDX files, and its classes."""

from __future__ import annotations

import os
import sys

import numpy as np

from ...data import load_digits, load_idx
from .errors import TrainError

__all__ = ["IDX_FILES", "load_data", "count_classes"]

IDX_FILES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


# A label is a class index: the model gets one output per class, so labels beyond this many are no
# dataset's classes, and building a model (or np.arange) from them would take memory for nothing.
MAX_LABEL = 65_535


def load_data(spec):
    """((X_train, y_train), (X_test, y_test)) with X float32 in [0, 1] of shape (n, features)."""
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
            raise TrainError(f"--data: {found[key]}: shape: should hold images (n, rows, cols), has {a.shape}")
        if a.size == 0:
            raise TrainError(f"--data: {found[key]}: shape: holds no images (shape {a.shape})")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise TrainError(f"--data: {found[key]}: pixels: holds NaN or infinite values")
        scale = 255.0 if a.dtype == np.uint8 else max(float(a.max()), 1.0)
        return (a.reshape(len(a), -1).astype(np.float32) / np.float32(scale)).astype(np.float32)

    def labels(key, n):
        a = arrays[key]
        if a.ndim != 1 or len(a) != n:
            raise TrainError(f"--data: {found[key]}: shape: should hold {n} labels, has {a.shape}")
        if a.dtype.kind not in "iu":  # float labels would be truncated, NaN ones turned into -2**63
            raise TrainError(f"--data: {found[key]}: dtype: labels must be integers, the file holds {a.dtype}")
        low, high = int(a.min()), int(a.max())
        if low < 0 or high > MAX_LABEL:
            raise TrainError(f"--data: {found[key]}: labels: must lie in 0..{MAX_LABEL}, found {low}..{high}")
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
    seen = np.unique(y_train)
    # at least classes - len(seen) classes have no training example: decided before anything of size
    # `classes` is allocated, so one label of 2**31 - 1 costs nothing
    missing = None if 2 * (classes - len(seen)) > classes else np.setdiff1d(np.arange(classes), seen)
    if missing is None or 2 * len(missing) > classes:
        n = classes - len(seen) if missing is None else len(missing)
        raise TrainError(
            f"--data: the labels found are {_labels_text(labels)}, so a model would need {classes} classes "
            f"(0..{classes - 1}) and {n} of them have no training example; number the classes "
            f"0, 1, ..., K-1"
        )
    if len(missing):
        print(f"note: {len(missing)} of the {classes} classes have no training example: {_labels_text(missing)} "
              f"(the labels found are {_labels_text(labels)})", file=sys.stderr)
    return classes
