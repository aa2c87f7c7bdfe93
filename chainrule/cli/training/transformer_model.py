"""``--model transformer``: each image read as a sequence of its rows by a small Transformer encoder."""

from __future__ import annotations

import math

import numpy as np

from ... import nn
from ...ops.reduce import mean
from .errors import TrainError

__all__ = ["D_MODEL", "RowTransformer", "build_transformer"]

D_MODEL = 64


class RowTransformer(nn.Module):
    """Rows → Linear(row → d_model) + learned positional embedding → encoder layers → mean over rows → Linear.

    Input (N, rows, row_length); output (N, classes) logits.

    >>> import numpy as np, chainrule as cr
    >>> net = RowTransformer(8, 8, 10)
    >>> net(cr.tensor(np.zeros((2, 8, 8), np.float32))).shape
    (2, 10)
    """

    def __init__(self, rows, row_length, classes, d_model=D_MODEL, nhead=4, num_layers=1, dim_feedforward=128,
                 dropout=0.0):
        super().__init__()
        self.embed = nn.Linear(row_length, d_model)
        self.pos = nn.Parameter(np.zeros((rows, d_model), np.float32))
        nn.init.normal_(self.pos, 0.0, 0.02)  # as GPT-2 and BERT start their position tables
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=dim_feedforward, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, classes)

    def forward(self, x):
        h = self.encoder(self.embed(x) + self.pos)
        return self.head(mean(h, axis=1))


def build_transformer(features, classes):
    """A RowTransformer for square images of ``features`` pixels, one row per sequence step."""
    side = math.isqrt(features)
    if side * side != features:
        raise TrainError(f"--model transformer needs square images, but the data has {features} pixels per sample")
    return RowTransformer(side, side, classes)
