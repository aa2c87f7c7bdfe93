"""Pickle-free save/load of named arrays in the safetensors file format."""

import contextlib
import json
import math
import numbers
import os
import struct
import tempfile

import numpy as np

__all__ = ["save", "load"]

_DTYPES = {
    "BOOL": np.dtype("bool"),
    "U8": np.dtype("<u1"),
    "I8": np.dtype("<i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F64": np.dtype("<f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}
_METADATA_KEY = "__metadata__"
# Same cap as the reference implementation; stops a corrupt length from
# making us allocate gigabytes before we notice the file is bad.
_MAX_HEADER = 100_000_000
_ALIGN = 8


def _umask():
    # os.umask can only be read by setting it; done once at import, when the
    # program is normally still single-threaded.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _as_array(key, value):
    # NOTE: a NumPy scalar (np.float32(1)) is a 0-d array with a dtype and is saved as one; a Python number
    # is refused (API.md): it has no dtype of its own, and guessing int64/float64 would change the type of
    # whatever it is loaded into. np.asarray(v) or np.array(v, dtype=...) says which one is meant.
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, np.generic):
        arr = np.asarray(value)
    elif isinstance(getattr(value, "data", None), np.ndarray):
        arr = value.data  # a chainrule Tensor or anything else wrapping an ndarray
    else:
        hint = ""
        if isinstance(value, numbers.Number):
            hint = f" (a Python number has no dtype: save np.asarray({value!r}) or np.array({value!r}, dtype=...))"
        raise TypeError(
            f"cannot save {key!r}: expected a NumPy array, NumPy scalar or Tensor, "
            f"got {type(value).__name__}{hint}"
        )
    native = arr.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(
            f"cannot save {key!r}: dtype {arr.dtype} is not supported by safetensors "
            f"(supported: {', '.join(_DTYPES)})"
        )
    return arr


def _build_header(state, metadata):
    if not hasattr(state, "items"):
        raise TypeError(f"save expects a dict of name -> array, got {type(state).__name__}")
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"tensor names must be str, got {type(key).__name__} {key!r}")
        if key == _METADATA_KEY:
            raise ValueError(f"{_METADATA_KEY!r} is reserved and cannot name a tensor")
        arrays[key] = _as_array(key, value)
    header = {}
    if metadata is not None:
        if not hasattr(metadata, "items") or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise TypeError("metadata must be a dict[str, str]")
        header[_METADATA_KEY] = dict(metadata)
    # Lay the data out widest dtype first so every tensor starts on a multiple
    # of its itemsize; the header keeps the caller's key order.
    layout = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    offsets, pos = {}, 0
    for key in layout:
        offsets[key] = (pos, pos + arrays[key].nbytes)
        pos += arrays[key].nbytes
    for key, arr in arrays.items():
        header[key] = {
            "dtype": _CODES[arr.dtype.newbyteorder("=")],
            "shape": list(arr.shape),
            "data_offsets": list(offsets[key]),
        }
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % _ALIGN)
    return text, [arrays[k] for k in layout]


def _little_endian_bytes(arr):
    le = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return memoryview(le.reshape(-1).view(np.uint8))


def save(state, path, *, metadata=None):
    """Atomically write ``state`` (name -> array or Tensor) as a safetensors file.

    Values are NumPy arrays (0-d ones and NumPy scalars such as ``np.int64(3)``
    included) or Tensors; anything else, Python numbers too, raises
    ``TypeError`` before the disk is touched.

    The file is written to a temporary file beside ``path``, fsynced and then
    renamed over ``path``, so a crash never leaves a half-written file.

    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save({"w": np.eye(2, dtype=np.float32)}, p, metadata={"epoch": "3"})
    >>> load(p)["w"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    path = os.fspath(path)
    header, ordered = _build_header(state, metadata)  # validate before touching disk
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as exc:  # it would name the temporary file; the user knows the path they gave
        raise _write_error(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(header)))
            f.write(header)
            for arr in ordered:
                f.write(_little_endian_bytes(arr))
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600 files; give the result the usual permissions.
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if isinstance(exc, OSError):
            raise _write_error(exc, path) from None
        raise
    _fsync_dir(folder)


def _write_error(error, path):
    """The same kind of OSError (same errno), naming ``path`` (not the temporary file) and why it failed.

    >>> print(_write_error(FileNotFoundError(2, "No such file"), "/no/such/folder/m.safetensors"))
    cannot save /no/such/folder/m.safetensors: the folder /no/such/folder does not exist
    """
    folder = os.path.dirname(path) or os.curdir
    part = folder  # the nearest part of the path that exists
    while part and not os.path.lexists(part):
        part = os.path.dirname(part)
    if part and not os.path.isdir(part):
        reason = f"{part} is a file, not a folder"
    elif not os.path.exists(folder):
        reason = f"the folder {folder} does not exist"
    elif os.path.isdir(path):
        reason = f"{path} is a folder"
    else:
        reason = error.strerror or str(error)
    named = type(error)(f"cannot save {path}: {reason}")
    named.errno = error.errno  # str() stays the message: only errno is set, not filename
    return named


def _fsync_dir(folder):
    # Makes the rename itself durable. Not possible on Windows, and some
    # filesystems refuse it; the data is already safely in place by then.
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        return
    finally:
        os.close(dir_fd)


class _Corrupt(ValueError):
    pass


def _parse_header(raw):
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise _Corrupt("duplicate key in header")
        return dict(pairs)

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _Corrupt(f"header is not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise _Corrupt("header is not a JSON object")
    metadata = header.pop(_METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _Corrupt("__metadata__ is not a str -> str object")
    return header, metadata


def _check_entry(name, entry, data_len):
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise _Corrupt(f"entry {name!r} must be an object with dtype, shape and data_offsets")
    dtype = _DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
    if dtype is None:
        raise _Corrupt(f"entry {name!r} has unknown or unsupported dtype {entry['dtype']!r}")
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise _Corrupt(f"entry {name!r} has an invalid shape {shape!r}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets):
        raise _Corrupt(f"entry {name!r} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not begin <= end <= data_len:
        raise _Corrupt(f"entry {name!r} data_offsets {offsets} fall outside the {data_len}-byte data")
    if end - begin != math.prod(shape) * dtype.itemsize:
        raise _Corrupt(
            f"entry {name!r} has {end - begin} bytes but shape {shape} of {entry['dtype']} "
            f"needs {math.prod(shape) * dtype.itemsize}"
        )
    return dtype, tuple(shape), begin, end


def _is_count(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _read_exact(f, arr):
    view = memoryview(arr.reshape(-1).view(np.uint8))
    filled = 0
    while filled < len(view):
        n = f.readinto(view[filled:])
        if not n:
            raise _Corrupt("file ended before all tensor data was read")
        filled += n


def _load(f, size):
    if size < 8:
        raise _Corrupt(f"file is {size} bytes, too short for the 8-byte header length")
    (header_len,) = struct.unpack("<Q", f.read(8))
    if header_len > _MAX_HEADER or 8 + header_len > size:
        raise _Corrupt(f"header length {header_len} does not fit in a {size}-byte file")
    header, metadata = _parse_header(f.read(header_len))
    data_start, data_len = 8 + header_len, size - 8 - header_len
    entries = {name: _check_entry(name, e, data_len) for name, e in header.items()}
    # Reference writers pack tensors back to back; gaps, overlaps or trailing
    # bytes all mean the file is not what its header claims.
    pos = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: kv[1][2:]):
        if begin != pos:
            kind = "overlaps the previous tensor" if begin < pos else "leaves a gap"
            raise _Corrupt(f"entry {name!r} at offset {begin} {kind} (expected {pos})")
        pos = end
    if pos != data_len:
        raise _Corrupt(f"tensors cover {pos} bytes but the file holds {data_len} data bytes")
    tensors = {}
    for name, (dtype, shape, begin, _) in entries.items():
        arr = np.empty(shape, dtype=dtype)
        f.seek(data_start + begin)
        _read_exact(f, arr)
        if dtype == np.bool_ and arr.view(np.uint8).max(initial=0) > 1:
            raise _Corrupt(f"entry {name!r} is BOOL but holds bytes other than 0 and 1")
        tensors[name] = arr.astype(dtype.newbyteorder("="), copy=False)
    return tensors, metadata


def load(path, with_metadata=False):
    """Read a safetensors file into a dict of name -> writable NumPy array.

    With ``with_metadata=True`` returns ``(tensors, metadata)``, where metadata
    is the file's ``__metadata__`` dict ({} when absent).

    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "x.safetensors")
    >>> save({"x": np.arange(3)}, p, metadata={"note": "hi"})
    >>> tensors, meta = load(p, with_metadata=True)
    >>> tensors["x"].tolist(), meta
    ([0, 1, 2], {'note': 'hi'})
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            tensors, metadata = _load(f, os.fstat(f.fileno()).st_size)
        except _Corrupt as exc:
            raise ValueError(f"safetensors file {path!r} is corrupt or truncated: {exc}") from None
    return (tensors, metadata) if with_metadata else tensors
