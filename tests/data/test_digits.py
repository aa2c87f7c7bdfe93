"""Tests for the bundled 8x8 digits dataset."""

import gzip
import os
import subprocess
import sys

import numpy as np

import chainrule.data
from chainrule.data import load_digits

DATA_DIR = os.path.dirname(chainrule.data.__file__)
N = 1797
N_TEST = int(round(0.2 * N))  # 359: the contract's rounding rule


def test_shapes_and_dtypes():
    (x_tr, y_tr), (x_te, y_te) = load_digits()
    assert x_tr.shape == (N - N_TEST, 64) and x_te.shape == (N_TEST, 64)
    assert y_tr.shape == (N - N_TEST,) and y_te.shape == (N_TEST,)
    assert (len(y_tr), len(y_te)) == (1438, 359)
    assert x_tr.dtype == np.float32 and x_te.dtype == np.float32
    assert y_tr.dtype == np.int64 and y_te.dtype == np.int64


def test_value_ranges():
    (x_tr, y_tr), (x_te, y_te) = load_digits()
    x = np.concatenate([x_tr, x_te])
    assert x.min() == 0.0 and x.max() == 1.0
    # Pixels are counts 0..16 divided by 16, so 16*x is integral.
    np.testing.assert_array_equal(x * 16, np.round(x * 16))
    y = np.concatenate([y_tr, y_te])
    assert set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(
        np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    )


def test_split_matches_contract():
    with gzip.open(os.path.join(DATA_DIR, "digits.csv.gz"), "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    order = np.random.default_rng(0).permutation(N)
    test, train = order[:N_TEST], order[N_TEST:]
    (x_tr, y_tr), (x_te, y_te) = load_digits()
    np.testing.assert_array_equal(x_tr, (table[train, :64] / 16).astype(np.float32))
    np.testing.assert_array_equal(x_te, (table[test, :64] / 16).astype(np.float32))
    np.testing.assert_array_equal(y_tr, table[train, 64])
    np.testing.assert_array_equal(y_te, table[test, 64])


def test_deterministic_and_returns_copies():
    (a_x, a_y), (a_xt, a_yt) = load_digits()
    a_x[:] = -1
    a_y[:] = -1
    (b_x, b_y), (b_xt, b_yt) = load_digits()
    assert b_x.min() == 0.0 and b_y.min() == 0
    np.testing.assert_array_equal(a_xt, b_xt)
    np.testing.assert_array_equal(a_yt, b_yt)
    assert b_x.flags.writeable and b_x.flags.c_contiguous


def test_data_and_license_ship_in_package():
    assert os.path.isfile(os.path.join(DATA_DIR, "digits.csv.gz"))
    with open(os.path.join(DATA_DIR, "DIGITS-LICENSE.txt"), encoding="utf-8") as f:
        text = f.read()
    assert "BSD" in text and "scikit-learn" in text


def test_does_not_import_sklearn():
    code = (
        "import sys, chainrule.data as d; d.load_digits(); "
        "assert 'sklearn' not in sys.modules"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(DATA_DIR)))
    env = dict(os.environ, PYTHONPATH=root)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
