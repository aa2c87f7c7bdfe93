"""The models the train command builds: the MLP, the CNN, the EDF notes' MLP, and the input shape each takes."""

from __future__ import annotations

import math

from ... import nn
from .edf_model import build_edf
from .errors import TrainError
from .lstm_model import RowLSTM
from .transformer_model import build_transformer

__all__ = ["MODELS", "build_model"]

MODELS = ("mlp", "cnn", "edf", "lstm", "transformer")  # what --model accepts, and what a checkpoint's config may name


def build_model(kind, features, classes):
    """The MLP, CNN, EDF MLP or row LSTM for inputs of ``features`` pixels (a square image for the CNN)."""
    if kind == "edf":
        return build_edf(features, classes)
    if kind == "transformer":
        return build_transformer(features, classes)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(features, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, classes))
    side = math.isqrt(features)
    if kind == "lstm":
        if side * side != features:
            raise TrainError(f"--model lstm needs square images, but the data has {features} pixels per sample")
        return RowLSTM(side, classes)
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
    if kind in ("lstm", "transformer"):  # a sequence of rows: (N, rows, row width)
        side = math.isqrt(x.shape[1])
        return x.reshape(len(x), side, side)
    return x
