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


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"IDX file {path!r}: corrupt or truncated gzip data ({exc})") from exc


def load_idx(path):
    """Load an IDX file (e.g. MNIST ``train-images-idx3-ubyte.gz``) as an ndarray.

    The result has the file's dtype (uint8, int8, int16, int32, float32 or
    float64, in native byte order) and shape. Gzip is detected from the
    content, not the file name.

    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "labels.idx1-ubyte")
    >>> _ = open(p, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> load_idx(p).tolist()
    [7, 2, 1]
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"IDX file {path!r}: truncated, only {len(raw)} bytes (need a 4-byte magic)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"IDX file {path!r}: bad magic number {raw[:4].hex()} (must start with 0000)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"IDX file {path!r}: unknown dtype code 0x{code:02x}")
    dtype = _IDX_DTYPES[code]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(
            f"IDX file {path!r}: truncated header, {ndim} dimensions need "
            f"{header_len} bytes but the file has {len(raw)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize
    actual = len(raw) - header_len
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing data"
        raise ValueError(
            f"IDX file {path!r}: {problem}: shape {shape} of {dtype.newbyteorder('=').name} "
            f"needs {expected} data bytes, found {actual}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    # astype copies into native byte order, which also makes the array writable.
    return data.astype(dtype.newbyteorder("="))
