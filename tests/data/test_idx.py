"""Tests for the IDX (MNIST format) reader."""

import gzip
import struct

import numpy as np
import pytest

from chainrule.data import load_idx

CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(arr):
    arr = np.asarray(arr)
    head = bytes([0, 0, CODES[arr.dtype.type], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, payload, compress=False):
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


rng = np.random.default_rng(0)
CASES = {
    "uint8-images": rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8),
    "uint8-labels": rng.integers(0, 10, size=(7,)).astype(np.uint8),
    "int8": rng.integers(-128, 128, size=(3, 4)).astype(np.int8),
    "int16": rng.integers(-3000, 3000, size=(4, 2)).astype(np.int16),
    "int32": rng.integers(-(2**31), 2**31, size=(6,)).astype(np.int32),
    "float32": rng.standard_normal((2, 3, 4)).astype(np.float32),
    "float64": rng.standard_normal((3,)),
    "empty": np.zeros((0, 28, 28), np.uint8),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", list(CASES))
def test_round_trip(tmp_path, name, compress):
    want = CASES[name]
    got = load_idx(write(tmp_path / f"{name}.idx", idx_bytes(want), compress))
    assert got.dtype == want.dtype and got.dtype.isnative
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert got.flags.writeable


def test_gzip_detected_by_content_not_name(tmp_path):
    want = CASES["uint8-labels"]
    assert load_idx(write(tmp_path / "a.gz", idx_bytes(want))).tolist() == want.tolist()
    assert load_idx(write(tmp_path / "b.idx", idx_bytes(want), True)).tolist() == want.tolist()


def test_accepts_pathlike_and_str(tmp_path):
    p = write(tmp_path / "x", idx_bytes(CASES["int8"]))
    np.testing.assert_array_equal(load_idx(str(p)), load_idx(p))


def test_known_mnist_header(tmp_path):
    # Header of the real MNIST label file: magic 0x00000801, 60000 items.
    payload = bytes.fromhex("00000801") + struct.pack(">I", 3) + bytes([5, 0, 4])
    assert load_idx(write(tmp_path / "t", payload)).tolist() == [5, 0, 4]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b"\x01" + b[1:], "bad magic"),
        (lambda b: b[:1] + b"\x07" + b[2:], "bad magic"),
        (lambda b: b[:2] + b"\x0a" + b[3:], "unknown dtype code 0x0a"),
        (lambda b: b[:-1], "truncated"),
        (lambda b: b[:10], "truncated"),
        (lambda b: b[:6], "truncated header"),
        (lambda b: b[:3], "truncated"),
        (lambda b: b"", "truncated"),
        (lambda b: b + b"\x00", "trailing data"),
        (lambda b: b[:3] + b"\x01" + b[4:], "trailing data"),
    ],
)
def test_malformed_files(tmp_path, mutate, message, compress):
    payload = mutate(idx_bytes(CASES["uint8-images"]))
    path = write(tmp_path / "bad.idx", payload, compress)
    with pytest.raises(ValueError, match=message) as info:
        load_idx(path)
    assert "bad.idx" in str(info.value)


def test_truncated_gzip_stream(tmp_path):
    packed = gzip.compress(idx_bytes(CASES["uint8-images"]))
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="cut.gz.*gzip"):
        load_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "nope.idx")
