"""Pickle-free save/load of named arrays: the safetensors library's format, written atomically."""

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
import time

import numpy as np

__all__ = ["save", "load"]

# What save accepts: the dtypes NumPy holds that every safetensors reader understands. bfloat16 joins
# them when ml_dtypes is installed (NumPy has no bfloat16 of its own); complex and the float8 family
# stay out, as before the library took over the format.
_CODES = {
    np.dtype("bool"): "BOOL",
    np.dtype("u1"): "U8", np.dtype("i1"): "I8",
    np.dtype("u2"): "U16", np.dtype("i2"): "I16", np.dtype("f2"): "F16",
    np.dtype("u4"): "U32", np.dtype("i4"): "I32", np.dtype("f4"): "F32",
    np.dtype("u8"): "U64", np.dtype("i8"): "I64", np.dtype("f8"): "F64",
}
_METADATA_KEY = "__metadata__"
_LEGACY_AGE_S = 3600  # no save writes one file for an hour without touching it


def _bfloat16():
    """NumPy's bfloat16 dtype when ml_dtypes has registered one, else None."""
    try:
        return np.dtype("bfloat16")
    except TypeError:
        try:
            import ml_dtypes
        except ImportError:
            return None
        return np.dtype(ml_dtypes.bfloat16)


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
        if isinstance(value, (int, float, complex)):
            hint = f" (a Python number has no dtype: save np.asarray({value!r}) or np.array({value!r}, dtype=...))"
        raise TypeError(
            f"cannot save {key!r}: expected a NumPy array, NumPy scalar or Tensor, "
            f"got {type(value).__name__}{hint}"
        )
    native = arr.dtype.newbyteorder("=")
    if native not in _CODES and native != _bfloat16():
        raise TypeError(
            f"cannot save {key!r}: dtype {arr.dtype} is not supported by safetensors "
            f"(supported: {', '.join(_CODES.values())}, and BF16 with ml_dtypes installed)"
        )
    # the library wants contiguous little-endian data
    return np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")  # (ascontiguousarray makes 0-d 1-d)


def _arrays(state, metadata):
    if not hasattr(state, "items"):
        raise TypeError(f"save expects a dict of name -> array, got {type(state).__name__}")
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"tensor names must be str, got {type(key).__name__} {key!r}")
        if key == _METADATA_KEY:
            raise ValueError(f"{_METADATA_KEY!r} is reserved and cannot name a tensor")
        arrays[key] = _as_array(key, value)
    if metadata is not None:
        if not hasattr(metadata, "items") or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise TypeError("metadata must be a dict[str, str]")
        metadata = dict(metadata)
    return arrays, metadata


def _temp_prefix(path):
    return "." + os.path.basename(path) + "."


def save(state, path, *, metadata=None):
    """Atomically write ``state`` (name -> array or Tensor) as a safetensors file.

    Values are NumPy arrays (0-d ones and NumPy scalars such as ``np.int64(3)``
    included) or Tensors; anything else, Python numbers too, raises
    ``TypeError`` before the disk is touched. The bytes are those of the
    reference writer (``safetensors.numpy.save_file``).

    The file is written to a temporary file beside ``path``, fsynced and then
    renamed over ``path``, so a crash never leaves a half-written file; one
    left by a killed save is removed by the next save to ``path``. A symbolic
    link is written through (its target is replaced); a read-only file is
    refused with ``PermissionError``.

    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save({"w": np.eye(2, dtype=np.float32)}, p, metadata={"epoch": "3"})
    >>> load(p)["w"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    # lazily, as in load: `import chainrule` loads NumPy only, the safetensors library when a file is written
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    path = os.fspath(path)
    arrays, metadata = _arrays(state, metadata)  # validate before touching disk
    target = os.path.realpath(path)  # a symlink is written through, not replaced by a file
    _refuse_read_only(path, target)
    folder = os.path.dirname(target)
    _remove_leftovers(target)
    try:
        # The library writes a temporary file of its own beside the name it is given and renames it; giving it
        # a name inside a folder of ours keeps both on the target's filesystem and lets the next save remove
        # what a killed save left. The pid in the folder's name says whether the process that made it is gone.
        scratch = tempfile.mkdtemp(dir=folder, prefix=_temp_prefix(target) + f"{os.getpid()}.", suffix=".tmp")
    except OSError as exc:  # it would name the temporary folder; the user knows the path they gave
        raise _write_error(exc, path, target) from None
    tmp = os.path.join(scratch, "data")
    try:
        try:
            save_file(arrays, tmp, metadata=metadata)
        except SafetensorError as exc:  # the library's I/O errors (a full disk) arrive as this
            raise _os_error(exc) from None
        _fsync_file(tmp)
        # the library creates 0600 files; give the result the usual permissions.
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, target)
    except BaseException as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _write_error(exc, path, target) from None
        raise
    with contextlib.suppress(OSError):
        os.rmdir(scratch)
    _fsync_dir(folder)


def _os_error(exc):
    """The OSError inside the library's 'I/O error: No space left on device (os error 28)'.

    >>> _os_error(ValueError("Error while serializing: I/O error: No space left on device (os error 28)")).errno
    28
    """
    found = re.search(r"\(os error (\d+)\)", str(exc))
    code = int(found.group(1)) if found else errno.EIO
    return OSError(code, os.strerror(code) if found else str(exc))


def _refuse_read_only(path, target):
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return  # nothing there yet (or unreadable: the write itself reports it)
    # os.access alone says yes to root; a file nobody may write is read-only to us too
    if stat.S_ISREG(mode) and (not mode & 0o222 or not os.access(target, os.W_OK)):
        raise PermissionError(errno.EACCES, f"cannot save {path}: the file is read-only (make it writable "
                                            f"or save elsewhere)")


def _remove_leftovers(target):
    """Remove the temporary folders of earlier saves to ``target`` whose process no longer runs (killed mid-save)."""
    folder, prefix = os.path.dirname(target), _temp_prefix(target)
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.[A-Za-z0-9_]+\.tmp")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    # what saves before the safetensors library left: a file with no pid in its name, judged by its age
    legacy = re.compile(re.escape(prefix) + r"[a-z0-9_]{8}\.tmp")
    for name in names:
        match = pattern.fullmatch(name)
        if match and not _running(int(match.group(1))):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
        elif legacy.fullmatch(name):
            with contextlib.suppress(OSError):
                if time.time() - os.lstat(os.path.join(folder, name)).st_mtime > _LEGACY_AGE_S:
                    os.remove(os.path.join(folder, name))


def _running(pid):
    if pid == os.getpid():
        return True  # another thread of ours may be saving the same path now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a name we cannot judge: leave it
    return True


def _write_error(error, path, target=None):
    """The same kind of OSError (same errno), naming ``path`` (not the temporary file) and why it failed.

    >>> print(_write_error(FileNotFoundError(2, "No such file"), "/no/such/folder/m.safetensors"))
    cannot save /no/such/folder/m.safetensors: the folder /no/such/folder does not exist
    """
    target = path if target is None else target
    folder = os.path.dirname(target) or os.curdir
    part = folder  # the nearest part of the path that exists
    while part and not os.path.lexists(part):
        part = os.path.dirname(part)
    if part and not os.path.isdir(part):
        reason = f"{part} is a file, not a folder"
    elif not os.path.exists(folder):
        reason = f"the folder {folder} does not exist"
    elif os.path.isdir(target):
        reason = f"{target} is a folder"
    else:
        reason = error.strerror or str(error)
    named = type(error)(f"cannot save {path}: {reason}")
    named.errno = error.errno  # str() stays the message: only errno is set, not filename
    return named


def _fsync_file(name):
    fd = os.open(name, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _corrupt(path, why):
    return ValueError(f"safetensors file {path!r} is corrupt or truncated: {why}")


def load(path, with_metadata=False):
    """Read a safetensors file into a dict of name -> writable NumPy array, in the file's order.

    With ``with_metadata=True`` returns ``(tensors, metadata)``, where metadata
    is the file's ``__metadata__`` dict ({} when absent). The file is read by
    the safetensors library (memory-mapped); nothing in it is ever executed.
    The order of the names is the file's (the reference writer puts the
    widest dtypes first, then sorts by name), not the order they were saved in.

    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "x.safetensors")
    >>> save({"x": np.arange(3)}, p, metadata={"note": "hi"})
    >>> tensors, meta = load(p, with_metadata=True)
    >>> tensors["x"].tolist(), meta
    ([0, 1, 2], {'note': 'hi'})
    """
    # lazily: `import chainrule` loads NumPy only, the safetensors library when a file is read
    from safetensors import SafetensorError, safe_open

    path = os.fspath(path)
    with open(path, "rb"):
        pass  # a missing or unreadable file raises its own OSError, naming the path
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = _tensors(f, path)
    except SafetensorError as exc:
        raise _corrupt(path, exc) from None
    except OSError as exc:  # the library's own (a device that cannot be memory-mapped) name no path
        code = exc.errno or (_os_error(exc).errno if "(os error" in str(exc) else errno.EIO)
        raise OSError(code, f"cannot load {path}: {os.strerror(code)}") from None
    return (tensors, metadata) if with_metadata else tensors


def _tensors(f, path):
    """Every tensor of the open file ``f``, in the order of their data in the file (as the reference's load_file)."""
    try:
        tensors = f.get_tensors()  # one call into the library (safetensors 0.6+), the reference's load_file
    except (AttributeError, TypeError, KeyError):  # an older library, or a dtype NumPy cannot hold: one at a time
        names = f.offset_keys() if hasattr(f, "offset_keys") else f.keys()
        tensors = {name: _tensor(f, name, path) for name in names}
    for name, arr in tensors.items():
        if arr.dtype == np.bool_ and arr.view(np.uint8).max(initial=0) > 1:
            raise _corrupt(path, f"entry {name!r} is BOOL but holds bytes other than 0 and 1")
    return tensors


def _tensor(f, name, path):
    try:
        arr = f.get_tensor(name)
    except (TypeError, AttributeError, KeyError):  # a dtype NumPy cannot hold (BF16 without ml_dtypes, F8)
        code = f.get_slice(name).get_dtype()
        extra = " (install ml_dtypes to load bfloat16)" if code == "BF16" else ""
        raise ValueError(f"cannot load {path!r}: tensor {name!r} has dtype {code}, which NumPy cannot hold"
                         f"{extra}") from None
    return arr
