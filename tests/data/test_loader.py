"""Tests for Dataset, TensorDataset and DataLoader."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, TensorDataset


def make_ds(n=10):
    return TensorDataset(np.arange(n) * 10.0, np.arange(n))


def epoch(loader):
    return [tuple(np.array(f, copy=True) for f in batch) for batch in loader]


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 16])
@pytest.mark.parametrize("bs", [1, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_and_coverage(n, bs, drop_last):
    loader = DataLoader(make_ds(n), batch_size=bs, shuffle=True, seed=1, drop_last=drop_last)
    expected_len = n // bs if drop_last else -(-n // bs)
    assert len(loader) == expected_len
    for _ in range(2):
        batches = epoch(loader)
        assert len(batches) == expected_len
        idx = np.concatenate([y for _, y in batches]) if batches else np.array([], int)
        if drop_last:
            assert all(len(y) == bs for _, y in batches)
            assert len(idx) == (n // bs) * bs and len(set(idx.tolist())) == len(idx)
        else:
            np.testing.assert_array_equal(np.sort(idx), np.arange(n))
        for x, y in batches:
            np.testing.assert_array_equal(x, y * 10.0)  # fields stay paired


def test_no_shuffle_is_in_order():
    batches = epoch(DataLoader(make_ds(7), batch_size=3))
    assert [y.tolist() for _, y in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert all(isinstance(x, np.ndarray) and isinstance(y, np.ndarray) for x, y in batches)
    assert batches[0][1].dtype == np.arange(1).dtype


def test_default_batch_size_is_one():
    loader = DataLoader(make_ds(3))
    assert len(loader) == 3
    assert [y.shape for _, y in loader] == [(1,)] * 3


def test_seed_determinism_and_epochs_differ():
    a = DataLoader(make_ds(50), batch_size=8, shuffle=True, seed=123)
    b = DataLoader(make_ds(50), batch_size=8, shuffle=True, seed=123)
    a1, a2 = epoch(a), epoch(a)
    b1, b2 = epoch(b), epoch(b)
    for got, want in zip(a1 + a2, b1 + b2):
        np.testing.assert_array_equal(got[1], want[1])
    order = lambda batches: np.concatenate([y for _, y in batches]).tolist()  # noqa: E731
    assert order(a1) != order(a2)
    assert order(a1) == np.random.default_rng(123).permutation(50).tolist()
    c = DataLoader(make_ds(50), batch_size=8, shuffle=True, seed=124)
    assert order(epoch(c)) != order(a1)


def test_abandoned_epoch_still_advances_rng():
    a = DataLoader(make_ds(20), batch_size=4, shuffle=True, seed=5)
    b = DataLoader(make_ds(20), batch_size=4, shuffle=True, seed=5)
    next(iter(a))
    iter(b)
    np.testing.assert_array_equal(epoch(a)[0][1], epoch(b)[0][1])


class PairDataset(Dataset):
    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return np.full(3, i, dtype=np.float32), i


def test_generic_dataset_matches_tensor_dataset():
    generic = PairDataset(11)
    fast = TensorDataset(np.repeat(np.arange(11, dtype=np.float32)[:, None], 3, axis=1), np.arange(11))
    g = epoch(DataLoader(generic, batch_size=4, shuffle=True, seed=9))
    f = epoch(DataLoader(fast, batch_size=4, shuffle=True, seed=9))
    assert generic.calls == 11
    for (gx, gy), (fx, fy) in zip(g, f):
        np.testing.assert_array_equal(gx, fx)
        np.testing.assert_array_equal(gy, fy)
        assert gx.dtype == np.float32 and gx.shape[1:] == (3,)


def test_generic_dataset_of_plain_items():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return i * i

    assert [b.tolist() for b in DataLoader(Squares(), batch_size=2)] == [[0, 1], [4, 9], [16]]


def test_plain_sequence_works_as_dataset():
    assert [b.tolist() for b in DataLoader([[1, 2], [3, 4], [5, 6]], batch_size=2)] == [
        [[1, 2], [3, 4]],
        [[5, 6]],
    ]


def test_tensor_dataset_batches_are_vectorised(monkeypatch):
    takes = []
    original = TensorDataset._take

    def spy(self, index):
        takes.append(index)
        return original(self, index)

    monkeypatch.setattr(TensorDataset, "_take", spy)
    list(DataLoader(TensorDataset(np.arange(100), np.arange(100)), batch_size=10, shuffle=True, seed=0))
    # One gather per batch with the whole index array, not one per sample.
    assert len(takes) == 10
    assert all(isinstance(i, np.ndarray) and i.shape == (10,) for i in takes)


def test_overridden_getitem_is_used():
    seen = []

    class Augmented(TensorDataset):
        def __getitem__(self, i):
            seen.append(i)
            x, y = super().__getitem__(i)
            return x + 1, y

    batches = list(DataLoader(Augmented(np.zeros(6), np.arange(6)), batch_size=4))
    assert sorted(seen) == list(range(6))  # an override is honoured, per sample
    assert batches[0][0].tolist() == [1.0] * 4


def test_tensor_dataset_validation():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="first"):
        TensorDataset(np.float32(1.0))
    ds = TensorDataset([[1, 2], [3, 4]], [0, 1])
    assert len(ds) == 2 and ds[1][0].tolist() == [3, 4] and ds[1][1] == 1


@pytest.mark.parametrize("bad", [0, -3])
def test_batch_size_value_error(bad):
    with pytest.raises(ValueError, match=rf"DataLoader.*{bad}"):
        DataLoader(make_ds(), batch_size=bad)


@pytest.mark.parametrize("bad", [2.0, "4", None, True])
def test_batch_size_type_error(bad):
    with pytest.raises(TypeError, match=r"DataLoader.*batch_size"):
        DataLoader(make_ds(), batch_size=bad)


def test_other_argument_validation():
    with pytest.raises(TypeError, match="DataLoader"):
        DataLoader(42)
    with pytest.raises(TypeError, match="shuffle"):
        DataLoader(make_ds(), shuffle="yes")
    with pytest.raises(TypeError, match="seed"):
        DataLoader(make_ds(), shuffle=True, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(make_ds(), shuffle=True, seed=-1)
    assert DataLoader(make_ds(), batch_size=np.int64(4)).batch_size == 4


def test_tensor_dataset_yields_tensors():
    x = cr.tensor(np.arange(12, dtype=np.float32).reshape(6, 2))
    y = np.arange(6)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=3)
    for xb, yb in loader:
        assert isinstance(xb, cr.Tensor) and isinstance(yb, np.ndarray) and xb.dtype == np.float32
        np.testing.assert_array_equal(xb.data, np.arange(12, dtype=np.float32).reshape(6, 2)[yb])


class TensorItems(Dataset):
    """A generic Dataset (not a TensorDataset) whose samples are (Tensor, int label, ndarray)."""

    def __init__(self, requires_grad=False):
        self.w = cr.tensor(np.float32(2.0), requires_grad=requires_grad)

    def __len__(self):
        return 5

    def __getitem__(self, i):
        features = cr.tensor(np.full(3, i, dtype=np.float32)) * self.w
        return features, i, np.array([i, -i], dtype=np.int16)


def test_generic_dataset_of_tensors_collates_field_wise():
    batches = list(DataLoader(TensorItems(), batch_size=2, shuffle=True, seed=0))
    assert [len(b[1]) for b in batches] == [2, 2, 1]
    for xb, yb, zb in batches:
        assert type(xb) is cr.Tensor and xb.shape == (len(yb), 3) and xb.dtype == np.float32
        assert not xb.requires_grad  # plain data: off the graph
        np.testing.assert_array_equal(xb.data, 2.0 * np.repeat(yb[:, None], 3, axis=1))
        assert isinstance(yb, np.ndarray) and yb.dtype == np.arange(1).dtype
        assert zb.dtype == np.int16 and zb.tolist() == [[i, -i] for i in yb]
    labels = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(np.sort(labels), np.arange(5))


def test_collated_tensors_that_require_grad_stay_on_the_graph():
    ds = TensorItems(requires_grad=True)
    (xb, yb, _) = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.requires_grad and xb.shape == (5, 3)
    xb.sum().backward()
    assert ds.w.grad.item() == pytest.approx(3 * sum(range(5)))  # d/dw sum_i 3·i·w


def test_collate_rejects_mixed_structure():
    class Ragged(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (i, i) if i == 0 else (i,)

    with pytest.raises(ValueError, match="differing structure"):
        list(DataLoader(Ragged(), batch_size=2))


class Records(Dataset):
    """Samples as PyTorch users write them: dicts, nested tuples and lists, namedtuples."""

    def __init__(self, make):
        self.make = make

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return self.make(i)


def test_dict_samples_collate_to_a_dict_of_batches():
    (batch,) = DataLoader(Records(lambda i: {"x": np.full(2, i, np.float32), "y": i}), batch_size=5)
    assert isinstance(batch, dict) and list(batch) == ["x", "y"]
    assert batch["x"].shape == (5, 2) and batch["x"].dtype == np.float32 and batch["y"].tolist() == [0, 1, 2, 3, 4]
    # PyTorch's default_collate does the same (dict of batched tensors)
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate

    expected = default_collate([{"x": np.full(2, i, np.float32), "y": i} for i in range(5)])
    np.testing.assert_array_equal(batch["x"], expected["x"].numpy())
    np.testing.assert_array_equal(batch["y"], expected["y"].numpy())
    assert isinstance(expected["y"], torch.Tensor)


def test_collate_recurses_through_dicts_tuples_lists_and_namedtuples():
    import collections

    Pair = collections.namedtuple("Pair", "image label")

    def sample(i):
        return {"pair": Pair(np.full(3, i), i), "meta": (i, {"w": 0.5 * i}), "parts": [np.zeros(2), i]}

    (batch,) = DataLoader(Records(sample), batch_size=5)
    pair = batch["pair"]
    assert type(pair) is Pair and pair.image.shape == (5, 3) and pair.label.tolist() == list(range(5))
    ids, inner = batch["meta"]
    assert ids.tolist() == list(range(5)) and inner["w"].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    zeros, ids = batch["parts"]  # a list holding an array and a number is a record, as in PyTorch
    assert zeros.shape == (5, 2) and ids.tolist() == list(range(5))
    # a list of numbers stays array data (a row per sample)
    (rows,) = DataLoader(Records(lambda i: [i, 2 * i]), batch_size=5)
    assert rows.shape == (5, 2)


def test_tensors_inside_dict_samples_stay_tensors_with_their_graph():
    w = cr.tensor(np.float32(3.0), requires_grad=True)
    ds = Records(lambda i: {"x": cr.tensor(np.full(2, i, np.float32)) * w, "plain": cr.tensor([float(i)])})
    (batch,) = DataLoader(ds, batch_size=5)
    assert type(batch["x"]) is cr.Tensor and batch["x"].requires_grad and batch["x"].shape == (5, 2)
    assert type(batch["plain"]) is cr.Tensor and not batch["plain"].requires_grad
    batch["x"].sum().backward()
    assert w.grad.item() == pytest.approx(2 * sum(range(5)))


def test_dict_samples_with_different_keys_are_refused():
    ds = Records(lambda i: {"x": i} if i < 3 else {"x": i, "extra": 1})
    with pytest.raises(ValueError, match=r"differing structure: expected dicts with the keys \['x'\]"):
        list(DataLoader(ds, batch_size=5))


def test_strings_collate_to_a_list_as_in_pytorch():
    from chainrule.data.loader import collate

    batch = collate([{"text": "ab", "y": 1}, {"text": "cd", "y": 0}])
    assert batch["text"] == ["ab", "cd"] and batch["y"].tolist() == [1, 0]
