"""Reader for MNIST-style IDX files, plain or gzip-compressed."""

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["load_idx"]

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type codes; the payload is always big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


# Deflate expands at most 1032 to 1, so a gzip file of n bytes can hold no more than this many
# times n bytes: a header declaring more is refused before anything is decompressed or allocated.
_MAX_GZIP_RATIO = 1032
_CHUNK = 1 << 20


def _error(path, why):
    return ValueError(f"IDX file {path!r}: {why}")


def _read_into(f, view, path):
    """Fill ``view`` from ``f``; False when the stream ends first."""
    filled = 0
    try:
        while filled < len(view):
            n = f.readinto(view[filled : filled + _CHUNK])
            if not n:
                return False
            filled += n
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _error(path, f"corrupt or truncated gzip data ({exc})") from exc
    return True


def _read(f, n, path, what):
    buf = bytearray(n)
    if not _read_into(f, memoryview(buf), path):
        raise _error(path, f"truncated {what}")
    return bytes(buf)


def load_idx(path):
    """Load an IDX file (e.g. MNIST ``train-images-idx3-ubyte.gz``) as an ndarray.

    The result has the file's dtype (uint8, int8, int16, int32, float32 or
    float64, in native byte order) and shape. Gzip is detected from the
    content, not the file name. The header is checked before the data is
    read, and a gzip file is decompressed only as far as the header says the
    data goes, so a corrupt or hostile file costs no more memory than the
    array it claims to hold (and never more than deflate's 1032:1 ratio allows).

    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "labels.idx1-ubyte")
    >>> _ = open(p, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> load_idx(p).tolist()
    [7, 2, 1]
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        gz = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if gz:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return _load(f, path, gz, _MAX_GZIP_RATIO * size)
        return _load(raw, path, gz, size)


def _load(f, path, gz, most):
    """The array in the IDX stream ``f``, which holds at most ``most`` bytes."""
    head = bytearray(4)
    got = 0
    while got < 4:  # a short read is a short file here, not an error of its own
        try:
            n = f.readinto(memoryview(head)[got:])
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise _error(path, f"corrupt or truncated gzip data ({exc})") from exc
        if not n:
            raise _error(path, f"truncated, only {got} bytes (need a 4-byte magic)")
        got += n
    if head[0] != 0 or head[1] != 0:
        raise _error(path, f"bad magic number {bytes(head).hex()} (must start with 0000)")
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        raise _error(path, f"unknown dtype code 0x{code:02x}")
    dtype = _IDX_DTYPES[code]
    header_len = 4 + 4 * ndim
    dims = _read(f, 4 * ndim, path, f"header, {ndim} dimensions need {header_len} bytes")
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    expected = math.prod(shape) * dtype.itemsize
    what = f"shape {shape} of {dtype.newbyteorder('=').name} needs {expected} data bytes"
    if not gz and expected != most - header_len:
        actual = most - header_len
        problem = "truncated" if actual < expected else "has trailing data"
        raise _error(path, f"{problem}: {what}, found {actual}")
    if gz and expected > most:
        raise _error(path, f"truncated: {what}, more than its compressed size allows")
    data = np.empty(expected, np.uint8)
    if not _read_into(f, memoryview(data), path):
        raise _error(path, f"truncated: {what}, the data ends early")
    if gz and _read_into(f, memoryview(bytearray(1)), path):
        raise _error(path, f"has trailing data: {what}, the file holds more")
    arr = data.view(dtype).reshape(shape)
    if not arr.dtype.isnative:  # swapped in place: no second copy of a large file
        arr = arr.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return arr
