"""Sample cases of the shape primitives, read by tests/ops/test_shape.py, the vmap tests and the coverage test."""

from __future__ import annotations

import numpy as np

from chainrule.ops import join as J
from chainrule.ops import shape as S
from tests.ops.harness import Case

rng = np.random.default_rng(2)
S0 = np.array(0.7)
V = rng.standard_normal(6)
M = rng.standard_normal((3, 4))
A3 = rng.standard_normal((2, 3, 4))
A4 = rng.standard_normal((2, 3, 4, 2))
U = rng.standard_normal((1, 3, 1))


def C(name, fn, args, ref, label="", **kw):
    return Case(name=name, fn=fn, args=args, ref=ref, label=label, **kw)


def cat_ref(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


CASES = [
    # ---- reshape, flatten, ravel, atleast
    C("reshape", lambda x: S.reshape(x, (3, 2)), (V,), lambda x: x.reshape(3, 2), "tuple"),
    C("reshape", lambda x: x.reshape(2, -1, 2), (M,), lambda x: x.reshape(2, -1, 2), "method, -1"),
    C("reshape", lambda x: x.reshape(-1), (A3,), lambda x: x.reshape(-1), "method, int"),
    C("reshape", lambda x: S.reshape(x, (1, 1)), (S0,), lambda x: x.reshape(1, 1), "0-d in"),
    C("reshape", lambda x: S.reshape(x, ()), (np.array([1.5]),), lambda x: x.reshape(()), "0-d out"),
    C("reshape", lambda x: x.flatten(), (A3,), lambda x: x.flatten(), "flatten"),
    C("reshape", lambda x: S.ravel(x), (M,), np.ravel, "ravel"),
    C("reshape", lambda x: x.ravel(), (S0,), np.ravel, "ravel 0-d"),
    C("reshape", lambda x: S.atleast_2d(x), (V,), np.atleast_2d, "atleast_2d"),
    C("reshape", lambda x: S.atleast_3d(x), (M,), np.atleast_3d, "atleast_3d"),
    C("reshape", lambda x: S.atleast_1d(x), (S0,), np.atleast_1d, "atleast_1d"),
    # ---- transpose and friends
    C("transpose", lambda x: S.transpose(x), (M,), np.transpose, "default"),
    C("transpose", lambda x: S.transpose(x, (1, 2, 0)), (A3,), lambda x: x.transpose(1, 2, 0), "axes"),
    C("transpose", lambda x: x.transpose(-1, 0, 1), (A3,), lambda x: x.transpose(2, 0, 1), "method, negative"),
    C("transpose", lambda x: S.transpose(x, axes=[0, 2, 1]), (A3,), lambda x: x.transpose(0, 2, 1), "axes="),
    C("transpose", lambda x: x.T, (A4,), lambda x: x.T, ".T"),
    C("transpose", lambda x: x.swapaxes(0, -1), (A3,), lambda x: x.swapaxes(0, -1), "swapaxes"),
    C("transpose", lambda x: S.moveaxis(x, 0, -1), (A4,), lambda x: np.moveaxis(x, 0, -1), "moveaxis"),
    C(
        "transpose",
        lambda x: S.moveaxis(x, [0, 1], [-1, 0]),
        (A4,),
        lambda x: np.moveaxis(x, [0, 1], [-1, 0]),
        "moveaxis lists",
    ),
    # ---- unit axes
    C("expand_dims", lambda x: S.expand_dims(x, 1), (M,), lambda x: np.expand_dims(x, 1), "int"),
    C("expand_dims", lambda x: S.expand_dims(x, -1), (V,), lambda x: np.expand_dims(x, -1), "negative"),
    C("expand_dims", lambda x: S.expand_dims(x, (0, 3)), (M,), lambda x: np.expand_dims(x, (0, 3)), "tuple"),
    C("expand_dims", lambda x: S.expand_dims(x, 0), (S0,), lambda x: np.expand_dims(x, 0), "0-d"),
    C("squeeze", lambda x: S.squeeze(x), (U,), np.squeeze, "None"),
    C("squeeze", lambda x: x.squeeze(-1), (U,), lambda x: x.squeeze(-1), "method, negative"),
    C("squeeze", lambda x: S.squeeze(x, (0, 2)), (U,), lambda x: np.squeeze(x, (0, 2)), "tuple"),
    C("squeeze", lambda x: S.squeeze(x), (M,), np.squeeze, "nothing to squeeze"),
    # ---- joining
    C("concatenate", lambda x, y: J.concatenate([x, y]), (M, M[:2]), cat_ref, "axis=0"),
    C(
        "concatenate",
        lambda x, y, z: J.concatenate((x, y, z), axis=-1),
        (A3, A3[..., :1], A3[..., :2]),
        lambda *xs: cat_ref(*xs, axis=-1),
        "three, axis=-1",
    ),
    C(
        "concatenate",
        lambda x, y: J.concatenate([x, y], axis=None),
        (M, V),
        lambda x, y: cat_ref(x.ravel(), y),
        "axis=None",
    ),
    C(
        "concatenate",
        lambda x: J.concatenate([x, np.ones((1, 4), np.float32), x], axis=0),
        (M,),
        lambda x: cat_ref(x, np.ones((1, 4)), x),
        "constant and repeated input",
    ),
    C("stack", lambda x, y: J.stack([x, y]), (M, M * 2), lambda x, y: np.stack([x, y]), "axis=0"),
    C(
        "stack",
        lambda x, y, z: J.stack([x, y, z], axis=-1),
        (V, V + 1, V * 3),
        lambda *xs: np.stack(xs, axis=-1),
        "three, axis=-1",
    ),
    C("stack", lambda x: J.stack([x, x], axis=-1), (S0,), lambda x: np.stack([x, x], axis=-1), "0-d"),
    # ---- splitting (crop) and pad
    C("crop", lambda x: J.split(x, 3)[1], (V,), lambda x: np.split(x, 3)[1], "split sections"),
    C(
        "crop",
        lambda x: J.split(x, [1, 3], axis=1)[2] * 2 + J.split(x, [1, 3], axis=1)[0],
        (M,),
        lambda x: np.split(x, [1, 3], axis=1)[2] * 2 + np.split(x, [1, 3], axis=1)[0],
        "split indices",
    ),
    C(
        "crop",
        lambda x: J.concatenate(J.array_split(x, 3, axis=-1)[::-1], axis=-1),
        (A3,),
        lambda x: cat_ref(*np.array_split(x, 3, axis=-1)[::-1], axis=-1),
        "array_split reversed",
    ),
    C("crop", lambda x: J.crop_p(x, pad_width=((1, 0), (1, 2))), (M,), lambda x: x[1:, 1:2], "primitive"),
    C("pad", lambda x: J.pad(x, 2), (V,), lambda x: np.pad(x, 2), "int"),
    C("pad", lambda x: J.pad(x, ((1, 0), (2, 3))), (M,), lambda x: np.pad(x, ((1, 0), (2, 3))), "per axis"),
    C(
        "pad",
        lambda x: J.pad(x, (0, 1), constant_values=2.5),
        (A3,),
        lambda x: np.pad(x, (0, 1), constant_values=2.5),
        "constant_values",
    ),
    C("pad", lambda x: J.pad(x, 0), (S0,), lambda x: np.pad(x, 0), "0-d"),
    *[
        C(
            "pad",
            lambda x, m=m: J.pad(x, ((1, 2), (2, 1)), mode=m),
            (M,),
            lambda x, m=m: np.pad(x, ((1, 2), (2, 1)), mode=m),
            m,
        )
        for m in ("edge", "reflect", "symmetric", "wrap")
    ],
    C(
        "pad",
        lambda x: J.pad(x, ((0, 0), (1, 1), (3, 2)), mode="reflect"),
        (A3,),
        lambda x: np.pad(x, ((0, 0), (1, 1), (3, 2)), mode="reflect"),
        "reflect 3-d, full length",
    ),
    C(
        "pad",
        lambda x: J.pad(x, 3, mode="edge"),
        (np.array([0.4]),),
        lambda x: np.pad(x, 3, mode="edge"),
        "edge of length 1",
    ),
    # ---- flip, repeat, tile, broadcast_to
    C("flip", lambda x: S.flip(x), (A3,), np.flip, "None"),
    C("flip", lambda x: S.flip(x, -1), (M,), lambda x: np.flip(x, -1), "int"),
    C("flip", lambda x: S.flip(x, (0, 2)), (A3,), lambda x: np.flip(x, (0, 2)), "tuple"),
    C("repeat", lambda x: S.repeat(x, 2), (M,), lambda x: np.repeat(x, 2), "None flattens"),
    C("repeat", lambda x: x.repeat(3, axis=1), (M,), lambda x: x.repeat(3, axis=1), "method, axis"),
    C(
        "repeat",
        lambda x: S.repeat(x, [2, 0, 1], axis=0),
        (M,),
        lambda x: np.repeat(x, [2, 0, 1], axis=0),
        "counts with a zero",
    ),
    C(
        "repeat",
        lambda x: S.repeat(x, [1, 3, 2, 1], axis=-1),
        (A3,),
        lambda x: np.repeat(x, [1, 3, 2, 1], axis=-1),
        "counts",
    ),
    C("repeat", lambda x: S.repeat(x, 2), (S0,), lambda x: np.repeat(x, 2), "0-d"),
    C(
        "_sum_repeats",
        lambda x: S.sum_repeats_p(x, repeats=(2, 0, 1), axis=0),
        (M,),
        lambda x: np.stack([x[0] + x[1], 0 * x[0], x[2]]),
        "counts",
    ),
    C("_sum_repeats", lambda x: S.sum_repeats_p(x, repeats=2, axis=1), (M,), lambda x: x[:, ::2] + x[:, 1::2], "int"),
    C(
        "broadcast_to",
        lambda x: S.broadcast_to(x, (2, 3, 4)),
        (np.ones((3, 1)) * M[:, :1],),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
        "(3,1) to (2,3,4)",
    ),
    C("broadcast_to", lambda x: S.broadcast_to(x, 5), (S0,), lambda x: np.broadcast_to(x, 5), "0-d, int shape"),
    C("broadcast_to", lambda x: S.tile(x, (2, 1, 3)), (M,), lambda x: np.tile(x, (2, 1, 3)), "tile"),
    C("broadcast_to", lambda x: S.tile(x, 2), (M,), lambda x: np.tile(x, 2), "tile int"),
]


CASES += [
    # pad: borders wider than the axis repeat the pattern, as NumPy's do
    *[
        C("pad", lambda x, m=m: J.pad(x, ((4, 7), (0, 9)), mode=m), (M,),
          lambda x, m=m: np.pad(x, ((4, 7), (0, 9)), mode=m), f"{m}, wider than the axis")
        for m in ("reflect", "symmetric", "wrap", "edge")
    ],
    C("pad", lambda x: J.pad(x, (5, 2), mode="reflect"), (np.array([0.3, -1.2]),),
      lambda x: np.pad(x, (5, 2), mode="reflect"), "reflect, length 2"),
    C("pad", lambda x: J.pad(x, 3, mode="reflect"), (np.array([0.4]),), lambda x: np.pad(x, 3, mode="reflect"),
      "reflect, length 1"),
    C("pad", lambda x: J.pad(x, ((1, 0), (0, 0), (6, 5)), mode="symmetric"), (A3,),
      lambda x: np.pad(x, ((1, 0), (0, 0), (6, 5)), mode="symmetric"), "symmetric 3-d, wide"),
    C("_pad_fold", lambda g: J.pad_fold_p(g, axis=1, before=5, after=3, mode="reflect"),
      (rng.standard_normal((2, 12)),),
      lambda g: np.stack([np.bincount(np.pad(np.arange(4), (5, 3), mode="reflect"), w) for w in g]), "reflect"),
    C("_pad_fold", lambda g: J.pad_fold_p(g, axis=0, before=2, after=4, mode="wrap"), (rng.standard_normal((9, 2)),),
      lambda g: np.stack([np.bincount(np.pad(np.arange(3), (2, 4), mode="wrap"), w) for w in g.T], axis=1), "wrap"),
    # 0-d and edge cases
    C("squeeze", lambda x: S.squeeze(x), (S0,), np.squeeze, "0-d"),
    C("squeeze", lambda x: S.squeeze(x, 0), (S0,), lambda x: np.squeeze(x, 0), "0-d, axis=0"),
    C("squeeze", lambda x: x.squeeze(-1), (S0,), lambda x: x.squeeze(-1), "0-d method, axis=-1"),
    C("squeeze", lambda x: S.squeeze(x, ()), (U,), lambda x: np.squeeze(x, ()), "axis=()"),
    C("flip", lambda x: S.flip(x), (S0,), np.flip, "0-d"),
    C("flip", lambda x: S.flip(x, 0), (U,), lambda x: np.flip(x, 0), "unit axis"),
    C("flip", lambda x: S.flip(x, ()), (M,), lambda x: np.flip(x, ()), "axis=()"),
    C("transpose", lambda x: S.transpose(x), (S0,), np.transpose, "0-d"),
    C("transpose", lambda x: S.transpose(x), (V,), np.transpose, "1-d"),
    C("transpose", lambda x: S.transpose(x, ()), (S0,), lambda x: np.transpose(x, ()), "0-d, axes=()"),
    C("concatenate", lambda x: J.concatenate([x]), (M,), lambda x: cat_ref(x), "one array"),
    C("concatenate", lambda x, y: J.concatenate([x, y]), (M, M[:0]), cat_ref, "an empty piece"),
    C("concatenate", lambda x, y: J.concatenate([x, y], axis=None), (S0, V), lambda x, y: cat_ref(x.ravel(), y),
      "axis=None with a 0-d"),
    C("concatenate", lambda x, y: J.concatenate([x, y], axis=-1, dtype=x.dtype), (M, M),
      lambda x, y: cat_ref(x, y, axis=-1),
      "dtype="),
    C("concatenate", lambda x, y: J.hstack([x, y]), (V, V[:2]), lambda x, y: np.hstack([x, y]), "hstack 1-d"),
    C("concatenate", lambda x, y: J.hstack((x, y)), (M, M[:, :1]), lambda x, y: np.hstack([x, y]), "hstack 2-d"),
    C("concatenate", lambda x, y: J.vstack([x, y]), (M[0], M), lambda x, y: np.vstack([x, y]), "vstack"),
    C("concatenate", lambda x, y: J.vstack([x, y]), (S0, S0), lambda x, y: np.vstack([x, y]), "vstack 0-d"),
    C("concatenate", lambda x, y: J.dstack([x, y]), (M, M), lambda x, y: np.dstack([x, y]), "dstack"),
    C("concatenate", lambda x, y: J.column_stack([x, y]), (V, V), lambda x, y: np.column_stack([x, y]),
      "column_stack"),
    C("concatenate", lambda x, y: np.hstack([x, y]), (M, M), lambda x, y: np.hstack([x, y]), "np.hstack"),
    C("stack", lambda x, y: J.stack([x, y], axis=-1, dtype=x.dtype), (S0, S0), lambda x, y: np.stack([x, y], -1),
      "0-d, dtype="),
]
