"""The train command's errors: a problem the user can fix (exit 2), an output that could not be written (exit 1)."""

from __future__ import annotations

__all__ = ["TrainError", "WriteError"]


class TrainError(Exception):
    """A problem the user can fix (missing files, a checkpoint that does not match): exit code 2."""

    code = 2


class WriteError(TrainError):
    """An output file could not be written during training (a full disk, say): exit code 1."""

    code = 1
