"""Pytrees: flatten/unflatten round trips, dict key order, namedtuples, structure errors."""

from collections import namedtuple

import numpy as np
import pytest

from chainrule.transforms.pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten

Point = namedtuple("Point", "x y")


@pytest.mark.parametrize("tree", [
    1.0,
    (1.0, 2.0),
    [1.0, (2.0, [3.0])],
    {"b": 1.0, "a": (2.0, 3.0)},
    Point(1.0, [2.0, 3.0]),
    (None, 1.0, {"k": None}),
    (),
    {"w": np.ones(2), "b": np.zeros(1)},
])
def test_round_trip(tree):
    leaves, td = tree_flatten(tree)
    back = tree_unflatten(td, leaves)
    assert type(back) is type(tree)
    assert tree_flatten(back)[1] == td
    assert len(leaves) == td.num_leaves


def test_dict_keys_sorted_so_order_does_not_matter():
    a = tree_flatten({"x": 1, "y": 2})
    b = tree_flatten({"y": 2, "x": 1})
    assert a[0] == b[0] == [1, 2] and a[1] == b[1]


def test_tree_map_and_mismatch():
    assert tree_map(lambda a, b: a + b, (1, [2]), (10, [20])) == (11, [22])
    with pytest.raises(ValueError, match="structures differ"):
        tree_map(lambda a, b: a, (1, 2), [1, 2])
    with pytest.raises(ValueError, match="leaves"):
        tree_unflatten(tree_flatten((1, 2))[1], [1])
    assert tree_leaves({"a": [1, 2], "b": 3}) == [1, 2, 3]
