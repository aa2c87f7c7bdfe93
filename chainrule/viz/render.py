"""Turn DOT text into SVG or PNG with graphviz-pure (Graphviz ported to Rust: a pip install, no system package)."""

from __future__ import annotations

import errno
import functools
import importlib.metadata
import os
import shutil
import subprocess
import tempfile

__all__ = ["FORMATS", "find_renderer", "render", "write_atomic"]

FORMATS = ("svg", "png")
TIMEOUT_S = 60
_EXECUTABLES = ("graphviz-pure", "graphviz-pure.exe")


@functools.lru_cache(maxsize=1)
def find_renderer() -> str:
    """Path of the ``graphviz-pure`` executable that the ``graphviz-pure`` wheel installs.

    The wheel's own file list is asked first, so the executable is found even when
    the environment's ``bin`` folder is not on PATH (a venv that was not activated).
    """
    try:
        files = importlib.metadata.distribution("graphviz-pure").files or ()
    except importlib.metadata.PackageNotFoundError:
        files = ()
    for f in files:
        if f.name in _EXECUTABLES:
            path = f.locate()
            if os.path.isfile(path):
                return os.fspath(path)
    found = shutil.which("graphviz-pure")
    if found is None:
        raise RuntimeError("drawing needs graphviz-pure, which is not installed: pip install 'graphviz-pure>=0.2.2'")
    return found


def render(dot_source: str, fmt: str = "svg") -> bytes:
    """Lay out and draw ``dot_source``; ``fmt`` is ``"svg"`` or ``"png"``.

    Failure is judged by the exit code only: the renderer also prints harmless
    warnings (e.g. about the width of non-ASCII characters such as v̄).
    """
    if fmt not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        proc = subprocess.run(
            [find_renderer(), "-Kdot", f"-T{fmt}"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"graphviz-pure took longer than {TIMEOUT_S} s to draw this graph; draw a smaller "
            f"graph, or write the DOT text (a .dot path) and render it elsewhere"
        ) from None
    except OSError as e:
        raise RuntimeError(f"could not run graphviz-pure: {e}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit code {proc.returncode}"
        raise RuntimeError(f"graphviz-pure could not draw the graph: {message}")
    return proc.stdout


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file in the same folder, then a rename.

    A failure part-way leaves any earlier file at ``path`` as it was; errors name ``path``, never the
    temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        missing = FileNotFoundError(f"cannot write {path}: the folder {os.path.dirname(path)} does not exist")
        missing.errno = errno.ENOENT
        raise missing
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:  # the error would name the temporary file; the user knows the path they gave
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp makes the file private (0600); give it the old file's mode, or the usual 0644.
        os.chmod(tmp, os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise _naming(e, path) from None
        raise


def _naming(error, path):
    """The same kind of OSError (same errno), saying which path could not be written and why."""
    named = type(error)(f"cannot write {path}: {error.strerror or error}")
    named.errno = error.errno  # str() stays the message: it is built from args, which hold only the text
    return named
