"""``cr.distributed``: collectives over MPI (mpi4py) for data-parallel training; a world of one without mpiexec.

Launched as ``mpiexec -n 4 python script.py``, every process gets its rank
and the four of them reduce and broadcast arrays through MPI. Run plainly
(``python script.py``), the same script sees a world of one in which every
collective returns its input, so nothing needs to be written twice. mpi4py
and an MPI come with ``pip install "chainrule[mpi]"`` (the ``mpich`` wheel);
see docs/distributed.md for a cluster's own MPI and several machines.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np

from ..core.tensor import Tensor

__all__ = ["init", "is_initialized", "get_rank", "get_world_size", "all_reduce", "broadcast", "barrier",
           "communicator", "MissingMPIError", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "chainrule[mpi]" (mpi4py and the MPICH wheel)'

# The world size as launchers put it in each process's environment: MPICH's Hydra and Intel MPI
# (PMI_SIZE, MPI_LOCALNRANKS), Open MPI (OMPI_COMM_WORLD_SIZE). Read only to refuse a world of one
# where several processes were launched but mpi4py is missing.
_LAUNCHER_SIZE = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")

_STATE = {"comm": None, "initialized": False}


class MissingMPIError(ImportError):
    """mpi4py is not installed where more than one process was asked for."""


def _launched_size():
    for key in _LAUNCHER_SIZE:
        try:
            size = int(os.environ.get(key, "1"))
        except ValueError:
            continue
        if size > 1:
            return size
    return 1


def init(require_mpi=False):
    """Join the MPI world (once; later calls do nothing) and return its size.

    Without mpi4py a plain run is a world of one; under mpiexec with several processes, or with
    ``require_mpi=True``, it raises :class:`MissingMPIError` naming the extra to install. Once joined
    with more than one process, an uncaught exception in any process aborts the whole job (MPI_Abort)
    after printing its traceback, so the others never wait forever in a collective.

    >>> import chainrule as cr
    >>> cr.distributed.init() >= 1
    True
    """
    if _STATE["initialized"]:
        comm = _STATE["comm"]
        return 1 if comm is None else comm.Get_size()
    try:
        from mpi4py import MPI
    except ImportError:
        size = _launched_size()
        if require_mpi or size > 1:
            where = f"{size} processes were launched, but " if size > 1 else ""
            raise MissingMPIError(f"{where}mpi4py is not installed; install it with {INSTALL_HINT}") from None
        _STATE["initialized"] = True
        return 1
    comm = MPI.COMM_WORLD
    _STATE["comm"] = comm
    _STATE["initialized"] = True
    if comm.Get_size() > 1:
        _abort_on_uncaught(comm)
    return comm.Get_size()


def is_initialized():
    """Whether :func:`init` has run (every other function runs it first).

    >>> import chainrule as cr
    >>> cr.distributed.get_rank(); cr.distributed.is_initialized()
    0
    True
    """
    return _STATE["initialized"]


def communicator():
    """The mpi4py communicator of the world, or None in a world of one without mpi4py.

    >>> import chainrule as cr
    >>> comm = cr.distributed.communicator()
    >>> comm is None or comm.Get_size() >= 1
    True
    """
    init()
    return _STATE["comm"]


_ABORT_GRACE_S = 0.5


def _abort_on_uncaught(comm):
    """One process's uncaught exception ends every process: MPI_Abort after the traceback is printed."""
    previous = sys.excepthook

    def abort(kind, value, tb):
        try:
            if previous is sys.__excepthook__:
                # one write of the whole report: ranks failing together must not cut each other's lines
                text = "".join(traceback.format_exception(kind, value, tb))
                sys.stderr.flush()
                os.write(sys.stderr.fileno(), text.encode("utf-8", "replace"))
            else:
                previous(kind, value, tb)
                sys.stderr.flush()
            # a moment for the launcher to forward it (and for other ranks failing at once to say why)
            time.sleep(_ABORT_GRACE_S)
        finally:
            comm.Abort(1)

    sys.excepthook = abort


def get_rank():
    """This process's rank, 0..world_size-1 (0 in a world of one).

    >>> import chainrule as cr
    >>> cr.distributed.get_rank() < cr.distributed.get_world_size()
    True
    """
    comm = communicator()
    return 0 if comm is None else comm.Get_rank()


def get_world_size():
    """How many processes train together (1 outside mpiexec).

    >>> import chainrule as cr
    >>> cr.distributed.get_world_size() >= 1
    True
    """
    comm = communicator()
    return 1 if comm is None else comm.Get_size()


def _buffer(array, who):
    """(the C-contiguous ndarray to reduce in place, what to return): a Tensor's or ndarray's own memory."""
    data = array.data if isinstance(array, Tensor) else array
    if isinstance(data, np.ndarray) and data.flags.c_contiguous and data.flags.writeable:
        return data, array
    if isinstance(data, np.ndarray) and not isinstance(array, Tensor):
        copy = np.ascontiguousarray(data).copy()
        return copy, copy
    if isinstance(array, Tensor):
        array.data = np.ascontiguousarray(data).copy()
        return array.data, array
    value = np.array(array)
    if value.dtype == object:
        raise TypeError(f"{who}: expected an array of numbers, got {type(array).__name__}")
    return value, value


_OPS = ("sum", "mean", "max", "min")


def all_reduce(array, op="sum"):
    """Reduce ``array`` over all processes, elementwise; every process gets the result.

    ``op`` is "sum", "mean", "max" or "min". An ndarray or Tensor is reduced in place (a
    non-contiguous or read-only one into a copy) and returned; anything else becomes a new array. The
    dtype is kept on the wire (float32 stays float32); "mean" needs a floating dtype.

    >>> import numpy as np, chainrule as cr
    >>> cr.distributed.all_reduce(np.array([1.0, 2.0]), op="mean")  # a world of one here
    array([1., 2.])
    """
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(map(repr, _OPS))}, got {op!r}")
    buf, result = _buffer(array, "all_reduce")
    if op == "mean" and buf.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: op='mean' needs a floating dtype, got {buf.dtype}; use op='sum'")
    comm = communicator()
    if comm is None or comm.Get_size() == 1:
        return result
    from mpi4py import MPI

    comm.Allreduce(MPI.IN_PLACE, buf, op={"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op])
    if op == "mean":
        buf /= comm.Get_size()
    return result


def broadcast(array, root=0):
    """Overwrite ``array`` on every process with its value on process ``root``; returns it.

    Every process passes an array of the same shape and dtype (in place, as :func:`all_reduce`).

    >>> import numpy as np, chainrule as cr
    >>> cr.distributed.broadcast(np.arange(3), root=0)
    array([0, 1, 2])
    """
    buf, result = _buffer(array, "broadcast")
    comm = communicator()
    size = 1 if comm is None else comm.Get_size()
    if not 0 <= root < size:
        raise ValueError(f"broadcast: root must be a rank in 0..{size - 1}, got {root}")
    if size > 1:
        comm.Bcast(buf, root=root)
    return result


def barrier():
    """Wait until every process has called ``barrier()``.

    >>> import chainrule as cr
    >>> cr.distributed.barrier()
    """
    comm = communicator()
    if comm is not None and comm.Get_size() > 1:
        comm.Barrier()
