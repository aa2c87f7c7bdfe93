"""random_split, Subset, ConcatDataset and DataLoader's collate_fn and drop_last."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import ConcatDataset, DataLoader, Subset, TensorDataset, random_split

DS = TensorDataset(np.arange(10) * 10, np.arange(10) % 3)


def test_subset_picks_in_order_and_checks_indices():
    part = Subset(DS, [4, 0, 9])
    assert len(part) == 3 and [int(part[i][0]) for i in range(3)] == [40, 0, 90]
    with pytest.raises(IndexError, match="out of range for a dataset of 10"):
        Subset(DS, [10])


def test_concat_dataset_indexes_across_parts():
    both = ConcatDataset([DS, TensorDataset(np.array([-1, -2]), np.array([0, 0]))])
    assert len(both) == 12 and both.cumulative_sizes == [10, 12]
    assert [int(both[i][0]) for i in (0, 9, 10, 11, -1, -12)] == [0, 90, -1, -2, -2, 0]
    with pytest.raises(IndexError, match="out of range"):
        both[12]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


@pytest.mark.parametrize("lengths, sizes", [([7, 3], [7, 3]), ([0.5, 0.5], [5, 5]), ([0.34, 0.33, 0.33], [4, 3, 3]),
                                            ([0.25, 0.25, 0.5], [3, 2, 5])])
def test_random_split_partitions(lengths, sizes):
    parts = random_split(DS, lengths, generator=1)
    assert [len(p) for p in parts] == sizes
    seen = sorted(int(p[i][0]) for p in parts for i in range(len(p)))
    assert seen == list(range(0, 100, 10))


def test_random_split_repeats_with_the_seed_and_checks_lengths():
    a = random_split(DS, [5, 5], generator=3)[0].indices
    assert a == random_split(DS, [5, 5], generator=np.random.default_rng(3))[0].indices
    cr.random.seed(4)
    b = random_split(DS, [5, 5])[0].indices
    cr.random.seed(4)
    assert random_split(DS, [5, 5])[0].indices == b
    assert sorted(a) != list(range(5)) or sorted(b) != list(range(5))  # shuffled, not the first five
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(DS, [5, 4])
    with pytest.raises(ValueError, match="fractions"):
        random_split(DS, [0.5, 0.4])


def test_dataloader_collate_fn_and_drop_last():
    seen = []

    def collate_fn(samples):
        seen.append(len(samples))
        return np.array([int(x) for x, _ in samples])

    loader = DataLoader(DS, batch_size=4, collate_fn=collate_fn)
    assert [b.tolist() for b in loader] == [[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]]
    assert seen == [4, 4, 2]
    loader = DataLoader(Subset(DS, range(10)), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [xb.tolist() for xb, _ in loader] == [[0, 10, 20, 30], [40, 50, 60, 70]]
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(DS, collate_fn=3)
