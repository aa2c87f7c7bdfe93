"""``train --distributed``: joining the MPI world, each rank's share of a global batch, rank 0 alone speaking."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import numpy as np

from ... import distributed
from .errors import TrainError

__all__ = ["World", "join"]


class World:
    """This process's place in the run: ``rank`` of ``size`` (0 of 1 without --distributed)."""

    def __init__(self, rank=0, size=1):
        self.rank, self.size = rank, size

    @property
    def lead(self):
        """Rank 0: the one process that prints, evaluates and writes files."""
        return self.rank == 0

    def share(self, xb, yb):
        """This rank's contiguous part of a global batch (equal parts, the first ranks one more if it does
        not divide; empty for the last ranks when the batch is smaller than the world).

        >>> import numpy as np
        >>> [World(r, 3).share(np.arange(7), np.arange(7))[0].tolist() for r in range(3)]
        [[0, 1, 2], [3, 4], [5, 6]]
        """
        if self.size == 1:
            return xb, yb
        k, rest = divmod(len(yb), self.size)
        start = self.rank * k + min(self.rank, rest)
        stop = start + k + (self.rank < rest)
        return xb[start:stop], yb[start:stop]

    def sum(self, values):
        """The elementwise sum of ``values`` (floats) over every rank, the same on each."""
        out = np.array(values, dtype=np.float64)
        return distributed.all_reduce(out) if self.size > 1 else out

    def from_lead(self, obj):
        """Rank 0's ``obj`` (any picklable value) on every rank."""
        return distributed.communicator().bcast(obj, root=0) if self.size > 1 else obj

    def align(self, model):
        """Copy rank 0's parameters to every rank (a reduction may round differently from rank to rank)."""
        if self.size > 1:
            for p in model.parameters():
                distributed.broadcast(p.data, root=0)

    def stop(self, code):
        """Ending with ``code`` != 0 on one rank ends every rank (the others may wait in a collective)."""
        if self.size > 1 and code:
            sys.stdout.flush()
            sys.stderr.flush()
            distributed.communicator().Abort(code)
        return code

    @contextmanager
    def quiet(self):
        """On ranks other than 0, nothing printed reaches the terminal, except the error that ends the run."""
        if self.lead:
            yield
            return
        saved = sys.stdout, sys.stderr
        with open(os.devnull, "w") as devnull:
            sys.stdout = sys.stderr = devnull
            try:
                yield
            finally:
                sys.stdout, sys.stderr = saved


def join(enabled):
    """The World of this process: MPI's rank and size with ``--distributed``, else a world of one."""
    if not enabled:
        return World()
    try:
        size = distributed.init(require_mpi=True)
    except distributed.MissingMPIError:
        raise TrainError(f"--distributed needs mpi4py and an MPI: {distributed.INSTALL_HINT}, then run "
                         f"mpiexec -n 4 python -m chainrule train --distributed") from None
    return World(distributed.get_rank(), size)
