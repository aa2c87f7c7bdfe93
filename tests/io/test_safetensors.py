"""Tests for chainrule.io save/load in the safetensors format."""

import errno
import json
import os
import struct
import sys

import numpy as np
import pytest

import chainrule.io
from chainrule.io import load, save

rng = np.random.default_rng(0)

ARRAYS = {
    "f64": rng.standard_normal((3, 4)),
    "f32": rng.standard_normal((2, 3, 2)).astype(np.float32),
    "f16": rng.standard_normal(5).astype(np.float16),
    "i64": rng.integers(-(2**62), 2**62, size=(4,)),
    "i32": rng.integers(-(2**31), 2**31, size=(2, 2)).astype(np.int32),
    "i16": rng.integers(-(2**15), 2**15, size=(7,)).astype(np.int16),
    "i8": rng.integers(-128, 128, size=(3,)).astype(np.int8),
    "u8": rng.integers(0, 256, size=(2, 5)).astype(np.uint8),
    "u16": np.array([0, 65535], np.uint16),
    "u32": np.array([0, 2**32 - 1], np.uint32),
    "u64": np.array([0, 2**64 - 1], np.uint64),
    "bool": np.array([[True, False, True]]),
    "scalar": np.array(3.5, np.float32),
    "empty": np.zeros((0, 3), np.float64),
    "empty_i8": np.zeros((2, 0), np.int8),
    "special": np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324]),
}


def raw_file(path, header, data=b"", header_len=None):
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(text) if header_len is None else header_len
    path.write_bytes(struct.pack("<Q", n) + text + data)
    return path


def assert_bit_exact(got, want):
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == np.ascontiguousarray(want).tobytes()


def test_round_trip_every_dtype(tmp_path):
    path = tmp_path / "all.safetensors"
    save(ARRAYS, path)
    out = load(path)
    import safetensors.numpy

    assert list(out) == list(safetensors.numpy.load_file(path))  # the reference reader's order
    for key, want in ARRAYS.items():
        assert_bit_exact(out[key], want)
        assert out[key].flags.writeable


def test_file_layout_is_the_reference_writers(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path, ref = tmp_path / "x.safetensors", tmp_path / "ref.safetensors"
    state = {"b": np.array([1, 2], np.int16), "a": np.array([1.0], np.float64), "c": np.array(3, np.int8)}
    save(state, path, metadata={"k": "v"})
    st.save_file(state, str(ref), metadata={"k": "v"})
    raw = path.read_bytes()
    assert raw == ref.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    # Widest dtype first so each tensor is aligned to its itemsize.
    assert header["a"]["data_offsets"] == [0, 8] and header["b"]["data_offsets"] == [8, 12]
    assert raw[8 + n :] == struct.pack("<d", 1.0) + struct.pack("<2h", 1, 2) + b"\x03"


def test_scalars_and_odd_layouts(tmp_path):
    path = tmp_path / "s.safetensors"
    fortran = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    state = {
        "np_scalar": np.float32(2.5),
        "zero_d_int": np.array(7),
        "np_bool": np.bool_(True),
        "big_endian": np.arange(4, dtype=">f4"),
        "strided": np.arange(10, dtype=np.int64)[::3],
        "fortran": fortran,
    }
    save(state, path)
    out = load(path)
    assert_bit_exact(out["np_scalar"], np.float32(2.5))
    assert_bit_exact(out["zero_d_int"], np.array(7))
    assert_bit_exact(out["np_bool"], np.bool_(True))
    assert_bit_exact(out["big_endian"], np.arange(4, dtype=np.float32))
    assert_bit_exact(out["strided"], np.array([0, 3, 6, 9]))
    assert_bit_exact(out["fortran"], np.ascontiguousarray(fortran))


def test_tensor_like_values(tmp_path):
    class FakeTensor:
        def __init__(self, data):
            self.data = data

    path = tmp_path / "t.safetensors"
    save({"w": FakeTensor(np.ones((2, 2), np.float32))}, path)
    assert_bit_exact(load(path)["w"], np.ones((2, 2), np.float32))


def test_real_tensor_values(tmp_path):
    import chainrule as cr

    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    save({"w": cr.tensor(w, requires_grad=True)}, tmp_path / "t.safetensors")
    assert_bit_exact(load(tmp_path / "t.safetensors")["w"], w)


def test_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"x": np.zeros(2)}, path, metadata={"format": "np", "epoch": "3"})
    tensors, meta = load(path, with_metadata=True)
    assert meta == {"format": "np", "epoch": "3"} and list(tensors) == ["x"]
    assert list(load(path)) == ["x"]
    save({"x": np.zeros(2)}, path)
    assert load(path, with_metadata=True)[1] == {}
    with pytest.raises(TypeError, match="metadata"):
        save({"x": np.zeros(2)}, path, metadata={"epoch": 3})


def test_empty_state(tmp_path):
    save({}, tmp_path / "e.safetensors")
    assert load(tmp_path / "e.safetensors") == {}


def test_overwrite_and_permissions(tmp_path):
    path = tmp_path / "o.safetensors"
    save({"a": np.zeros(3)}, path)
    save({"b": np.ones(2)}, path)
    assert list(load(path)) == ["b"]
    assert sorted(os.listdir(tmp_path)) == ["o.safetensors"]
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    "value, type_name",
    [
        ("text", "str"),
        ({"a": 1}, "dict"),
        (object(), "object"),
        ([1, 2], "list"),
        (None, "NoneType"),
        (1j, "complex"),
        # API.md: a value that is not an array raises at save; a Python number has no dtype to save
        (7, "int"),
        (0.25, "float"),
        (True, "bool"),
    ],
)
def test_non_array_values_raise_type_error(tmp_path, value, type_name):
    with pytest.raises(TypeError, match=rf"'bad'.*{type_name}"):
        save({"ok": np.zeros(1), "bad": value}, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_python_number_error_says_how_to_save_it(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save 'epoch'.*got int.*np\.asarray\(3\)"):
        save({"epoch": 3}, tmp_path / "x.safetensors")


@pytest.mark.parametrize(
    "arr", [np.array([1, "a"], dtype=object), np.array([1j]), np.array(["s"]), np.array([1], "M8[s]")]
)
def test_unsupported_dtypes_raise_type_error(tmp_path, arr):
    with pytest.raises(TypeError, match="'w'"):
        save({"w": arr}, tmp_path / "x.safetensors")


def test_key_validation(tmp_path):
    with pytest.raises(TypeError, match="str"):
        save({1: np.zeros(1)}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="__metadata__"):
        save({"__metadata__": np.zeros(1)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="dict"):
        save([np.zeros(1)], tmp_path / "x.safetensors")


def test_unicode_names(tmp_path):
    save({"layer.0/ω": np.ones(1)}, tmp_path / "u.safetensors")
    assert list(load(tmp_path / "u.safetensors")) == ["layer.0/ω"]


@pytest.mark.parametrize("target", ["replace", "fsync"])
def test_failed_save_leaves_old_file(tmp_path, monkeypatch, target):
    path = tmp_path / "model.safetensors"
    save({"old": np.arange(3)}, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(f"simulated {target} failure")

    monkeypatch.setattr(os, target, boom)
    with pytest.raises(OSError, match="simulated"):
        save({"new": np.ones(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_interrupted_write_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save({"old": np.arange(3)}, path)
    before = path.read_bytes()

    def interrupted(name):
        assert os.path.getsize(name) > 0  # the new file was written, not yet in place
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules["chainrule.io.safetensors"], "_fsync_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"new": np.ones(10)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.safetensors")
    target = tmp_path / "no_dir" / "x.safetensors"
    with pytest.raises(FileNotFoundError) as missing:
        save({"x": np.zeros(1)}, target)
    # the error names the target and why, never the temporary file beside it
    assert str(missing.value) == f"cannot save {target}: the folder {tmp_path / 'no_dir'} does not exist"
    assert missing.value.errno == errno.ENOENT and ".tmp" not in str(missing.value)
    (tmp_path / "a_file").write_text("")
    for inside in (tmp_path / "a_file" / "x.safetensors", tmp_path / "a_file" / "sub" / "x.safetensors"):
        with pytest.raises(NotADirectoryError, match=r"a_file is a file, not a folder$"):
            save({"x": np.zeros(1)}, inside)
    (tmp_path / "a_folder.safetensors").mkdir()
    with pytest.raises(IsADirectoryError, match=r"a_folder.safetensors is a folder$"):
        save({"x": np.zeros(1)}, tmp_path / "a_folder.safetensors")
    assert sorted(os.listdir(tmp_path)) == ["a_file", "a_folder.safetensors"]  # no temporary file left behind


def test_every_truncation_is_value_error(tmp_path):
    good = tmp_path / "good.safetensors"
    save({"a": np.arange(5, dtype=np.float32), "b": np.array([True])}, good)
    raw = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for n in range(len(raw)):
        cut.write_bytes(raw[:n])
        with pytest.raises(ValueError, match=r"corrupt or truncated") as info:
            load(cut)
        assert "cut.safetensors" in str(info.value)


def entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


CORRUPT = {
    "huge header length": ({}, b"", 2**40),
    "header past eof": ({"x": entry()}, bytes(8), 10_000),
    "not json": (b"{not json", b"", None),
    "not utf8": (b'{"\xff": 1}', b"", None),
    "json list": (b"[1, 2]", b"", None),
    "duplicate key": (b'{"x": %s, "x": %s}' % (json.dumps(entry()).encode(), json.dumps(entry(shape=(1,))).encode()),
                      bytes(8), None),
    "unknown dtype": ({"x": entry(dtype="F128")}, bytes(8), None),
    "bf16 wrong size": ({"x": entry(dtype="BF16", shape=(3,))}, bytes(8), None),
    "huge integer": (b'{"x":{"dtype":"F32","shape":[' + b"9" * 5000 + b'],"data_offsets":[0,8]}}', bytes(8), None),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, b"", None),
    "empty header": (b"", b"", None),
    "size mismatch": ({"x": entry(shape=(3,))}, bytes(8), None),
    "offset out of range": ({"x": entry(offsets=(0, 16), shape=(4,))}, bytes(8), None),
    "reversed offsets": ({"x": entry(offsets=(8, 0))}, bytes(8), None),
    "overlap": ({"x": entry(), "y": entry(offsets=(4, 12))}, bytes(12), None),
    "gap": ({"x": entry(offsets=(4, 12))}, bytes(12), None),
    "trailing bytes": ({"x": entry()}, bytes(9), None),
    "negative dim": ({"x": entry(shape=(-2,))}, bytes(8), None),
    "float dim": ({"x": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}, bytes(8), None),
    "missing field": ({"x": {"dtype": "F32", "shape": [2]}}, bytes(8), None),
    "entry not object": ({"x": [1, 2]}, b"", None),
    "bad metadata": ({"__metadata__": {"k": 1}}, b"", None),
    "bad bool byte": ({"x": entry(dtype="BOOL", offsets=(0, 2))}, b"\x01\x02", None),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_files_raise_value_error(tmp_path, case):
    header, data, header_len = CORRUPT[case]
    path = raw_file(tmp_path / "bad.safetensors", header, data, header_len)
    with pytest.raises(ValueError, match=r"bad\.safetensors.*corrupt or truncated"):
        load(path)


def test_reads_foreign_layout(tmp_path):
    # Another writer may order the header differently and pad with spaces.
    header = {"__metadata__": {"a": "b"}, "y": entry("U8", (2,), (8, 10)), "x": entry("F64", (1,), (0, 8))}
    text = json.dumps(header).encode() + b"   "
    path = raw_file(tmp_path / "f.safetensors", text, struct.pack("<d", 2.0) + b"\x07\x09")
    tensors, meta = load(path, with_metadata=True)
    assert meta == {"a": "b"} and tensors["x"].tolist() == [2.0] and tensors["y"].tolist() == [7, 9]


def test_no_pickle_in_source():
    folder = os.path.dirname(chainrule.io.__file__)
    for package in (folder, os.path.join(os.path.dirname(folder), "data")):
        for name in os.listdir(package):
            if name.endswith(".py"):
                with open(os.path.join(package, name), encoding="utf-8") as f:
                    text = f.read()
                assert "import pickle" not in text and "allow_pickle" not in text, name


def test_cross_check_with_reference_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy", reason="reference safetensors not installed")
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    arrays = {k: np.ascontiguousarray(v) for k, v in ARRAYS.items()}
    save(arrays, ours, metadata={"k": "v"})
    for key, value in st.load_file(str(ours)).items():
        assert_bit_exact(value, arrays[key])
    st.save_file(arrays, str(theirs), metadata={"k": "v"})
    tensors, meta = load(theirs, with_metadata=True)
    assert meta == {"k": "v"}
    for key, value in tensors.items():
        assert_bit_exact(value, arrays[key])
