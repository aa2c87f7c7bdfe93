"""cr.save/cr.load under hostile or unlucky conditions: crafted and corrupt files, killed saves, odd targets."""

import json
import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.io import load, save

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAST = settings(max_examples=30, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    save({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([True, False]),
          "n": np.array(7, np.int64)}, path, metadata={"k": "v"})
    return path.read_bytes()


def _load_or_one_line_error(path):
    """The dict load returns, or None after checking that the ValueError is one line naming the file."""
    try:
        return load(path)
    except ValueError as e:
        text = str(e)
        assert "\n" not in text and os.path.basename(path) in text, text
        assert "corrupt or truncated" in text or "cannot load" in text, text
        return None


@FAST
@given(data=st.data())
def test_mutated_files_load_or_fail_with_one_line(tmp_path, data):
    raw = bytearray(_good_file(tmp_path))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    path = tmp_path / "mutated.safetensors"
    path.write_bytes(bytes(raw[:cut]))
    out = _load_or_one_line_error(path)
    if out is not None:  # a flipped data byte is still a valid file: then its values are what it says
        for arr in out.values():
            assert isinstance(arr, np.ndarray) and arr.dtype != object


HEADER_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
ENTRIES = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "I64", "U8", "BOOL", "BF16", "F8_E4M3", "C64", "X"]) | HEADER_VALUES,
    "shape": st.lists(st.integers(-1, 2**40), max_size=3) | HEADER_VALUES,
    "data_offsets": st.lists(st.integers(-1, 2**40), min_size=2, max_size=2) | HEADER_VALUES,
})


@FAST
@given(header=st.dictionaries(st.text(max_size=6), ENTRIES | HEADER_VALUES, max_size=3),
       data=st.binary(max_size=40), pad=st.integers(0, 9))
def test_crafted_headers_load_or_fail_with_one_line(tmp_path, header, data, pad):
    text = json.dumps(header).encode() + b" " * pad
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    _load_or_one_line_error(path)


@pytest.mark.parametrize("header_len", [0, 1, 7, 2**63, 2**64 - 1, 100_000_001])
def test_absurd_header_lengths(tmp_path, header_len):
    path = tmp_path / "len.safetensors"
    path.write_bytes(struct.pack("<Q", header_len) + b"{}")
    assert _load_or_one_line_error(path) is None


def test_a_pickle_is_never_run(tmp_path):
    import pickle

    marker = tmp_path / "ran"
    payload = pickle.dumps(type("P", (), {"__reduce__": lambda self: (open, (str(marker), "w"))})())
    for name, raw in (("p.safetensors", payload), ("q.safetensors", struct.pack("<Q", len(payload)) + payload)):
        (tmp_path / name).write_bytes(raw)
        assert _load_or_one_line_error(tmp_path / name) is None
    assert not marker.exists()


def test_huge_integer_in_header_names_the_path(tmp_path):
    text = b'{"x":{"dtype":"F32","shape":[' + b"9" * 5000 + b'],"data_offsets":[0,8]}}'
    path = tmp_path / "digits.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(8))
    with pytest.raises(ValueError, match=r"digits\.safetensors.*corrupt or truncated"):
        load(path)


def test_bfloat16(tmp_path):
    text = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    path = tmp_path / "bf16.safetensors"
    # 1.5 and -2.0 in bfloat16: the top halves of their float32 bit patterns
    bits = (np.array([1.5, -2.0], np.float32).view(np.uint32) >> 16).astype("<u2")
    path.write_bytes(struct.pack("<Q", len(text)) + text + bits.tobytes())
    try:
        import ml_dtypes
    except ImportError:
        with pytest.raises(ValueError, match=r"bf16\.safetensors.*'x' has dtype BF16.*ml_dtypes"):
            load(path)
        with pytest.raises(TypeError, match="BF16"):
            save({"x": np.zeros(2, np.dtype([("a", "<u2")]))}, tmp_path / "no.safetensors")
        return
    x = load(path)["x"]
    assert x.dtype == ml_dtypes.bfloat16 and x.astype(np.float32).tolist() == [1.5, -2.0]
    save({"x": x}, tmp_path / "again.safetensors")
    assert load(tmp_path / "again.safetensors")["x"].tobytes() == bits.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64,
                                   np.uint8, np.uint16, np.uint32, np.uint64, np.bool_])
def test_every_dtype_round_trips_bit_exactly_and_matches_the_reference(tmp_path, dtype):
    import safetensors.numpy

    rng = np.random.default_rng(1)
    x = np.frombuffer(rng.bytes(15 * np.dtype(dtype).itemsize), dtype=dtype).reshape(3, 5).copy()
    if dtype == np.bool_:
        x = x.view(np.uint8) % 2 == 1
    save({"x": x}, tmp_path / "a.safetensors")
    safetensors.numpy.save_file({"x": x}, str(tmp_path / "b.safetensors"))
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    got = load(tmp_path / "a.safetensors")["x"]
    assert got.dtype == x.dtype and got.tobytes() == x.tobytes()


def test_read_only_target_is_refused(tmp_path):
    path = tmp_path / "ro.safetensors"
    save({"a": np.zeros(2)}, path)
    before = path.read_bytes()
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    try:
        with pytest.raises(PermissionError, match=r"cannot save .*ro\.safetensors: the file is read-only"):
            save({"a": np.ones(2)}, path)
    finally:
        os.chmod(path, 0o644)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["ro.safetensors"]


def test_a_symlink_is_written_through(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.safetensors"
    save({"a": np.zeros(2)}, target)
    link = tmp_path / "link.safetensors"
    link.symlink_to(target)
    save({"a": np.ones(3)}, link)
    assert link.is_symlink() and load(target)["a"].tolist() == [1.0, 1.0, 1.0]
    assert sorted(os.listdir(tmp_path / "real")) == ["model.safetensors"]
    dangling = tmp_path / "dangling.safetensors"
    dangling.symlink_to(tmp_path / "real" / "new.safetensors")
    save({"b": np.zeros(1)}, dangling)
    assert dangling.is_symlink() and load(tmp_path / "real" / "new.safetensors")["b"].tolist() == [0.0]


def test_leftovers_of_dead_processes_are_removed_but_not_those_of_live_ones(tmp_path):
    path = tmp_path / "m.safetensors"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    left = tmp_path / f".m.safetensors.{dead_pid}.abc123.tmp"
    left.mkdir()
    (left / ".tmpXYZ").write_bytes(b"x" * 100)
    live = tmp_path / f".m.safetensors.{os.getppid()}.def456.tmp"  # our parent runs: maybe saving now
    live.mkdir()
    other = tmp_path / ".other.safetensors.1.x.tmp"  # another file's: not ours to judge
    other.mkdir()
    save({"a": np.zeros(1)}, path)
    assert not left.exists() and live.exists() and other.exists()


KILLED_SAVE = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[2])
    import chainrule.io.safetensors as st

    def stop_here(name):  # the new file is written but not yet in place: say so, then wait to be killed
        print(os.path.getsize(name), flush=True)
        time.sleep(60)

    st._fsync_file = stop_here
    st.save({"big": np.ones(4_000_000, np.float32)}, sys.argv[1])
""")


def test_a_save_killed_by_sigkill_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "model.safetensors"
    save({"old": np.arange(5)}, path)
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path), ROOT], stdout=subprocess.PIPE, text=True)
    try:
        written = int(proc.stdout.readline())
        assert written > 16_000_000  # the large new file existed when the process was killed
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.stdout.close()
    assert path.read_bytes() == before
    assert len(os.listdir(tmp_path)) == 2  # the old file, and the killed save's temporary folder
    save({"new": np.zeros(1)}, path)
    assert os.listdir(tmp_path) == ["model.safetensors"] and load(path)["new"].tolist() == [0.0]


def test_leftovers_of_saves_before_the_library_are_removed_once_stale(tmp_path):
    path = tmp_path / "m.safetensors"
    stale, fresh = tmp_path / ".m.safetensors.abcd1234.tmp", tmp_path / ".m.safetensors.efgh5678.tmp"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y")
    os.utime(stale, (1e9, 1e9))  # written long ago: nobody is still writing it
    save({"a": np.zeros(1)}, path)
    assert not stale.exists() and fresh.exists()


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_file_that_cannot_be_mapped_names_the_path():
    with pytest.raises(OSError, match="cannot load /dev/null"):
        load("/dev/null")
