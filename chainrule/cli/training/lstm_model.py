"""The train command's LSTM: reads each square image as a sequence of its rows, classifies from the last step."""

from __future__ import annotations

from ... import nn
from ...nn import functional as F

__all__ = ["RowLSTM"]


class RowLSTM(nn.Module):
    """Rows (N, rows, row_width) → Linear+ReLU per row → LSTM → Linear head on the last hidden state.

    The per-row embedding lifts the inputs (pixels in [0, 1]) to a scale where the
    LSTM's gates move from PyTorch's small initial weights: on the 8×8 digits it
    takes the test accuracy from about 95.8 % to 97-98 % in the default 20 epochs.

    >>> import numpy as np, chainrule as cr
    >>> RowLSTM(8, 10)(cr.zeros((2, 8, 8), dtype=np.float32)).shape
    (2, 10)
    """

    def __init__(self, row_width, classes, hidden_size=128, embed_size=64):
        super().__init__()
        self.embed = nn.Linear(row_width, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, classes)

    def forward(self, x):
        _, (h, _) = self.lstm(F.relu(self.embed(x)))
        return self.head(h[-1])
