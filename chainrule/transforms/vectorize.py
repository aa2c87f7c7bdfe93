"""vmap: write a function for one example, run it on a batch, with batching rules instead of a loop."""

from __future__ import annotations

import functools
import operator

import numpy as np

from ..core.batching import Batched, batch_levels, make, moveaxis, to_level, vmap_level
from ..core.shapes import shape_of
from ..core.tensor import Tensor, wrap
from ._util import has_tensor, output
from .pytree import tree_flatten, tree_unflatten

__all__ = ["vmap"]


def _axes_for(axes, arg, who, what):
    """One axis (int or None) per leaf of ``arg``: ``axes`` is an int/None for all, or a matching pytree."""
    leaves, td = tree_flatten(arg)
    if axes is None or isinstance(axes, (int, np.integer)):
        return leaves, td, [axes] * len(leaves)
    ax_leaves, ax_td = tree_flatten(_none_as_leaf(axes))
    if ax_td != td:
        raise ValueError(f"{who}: {what} {axes!r} does not match the structure {td!r} of its argument")
    return leaves, td, [None if a is _NOT_MAPPED else a for a in ax_leaves]


_NOT_MAPPED = object()


def _none_as_leaf(axes):
    """In an axes pytree None means "not mapped" (a leaf), not an empty subtree."""
    if axes is None:
        return _NOT_MAPPED
    if isinstance(axes, dict):
        return {k: _none_as_leaf(v) for k, v in axes.items()}
    if isinstance(axes, (tuple, list)) and not hasattr(axes, "_fields"):
        return type(axes)(_none_as_leaf(v) for v in axes)
    return axes


def vmap(f, in_axes=0, out_axes=0, randomness="different"):
    """Map ``f`` over axis ``in_axes`` of its arguments, stacking results along ``out_axes``, in one pass.

    ``in_axes`` is an int (every argument), None (not mapped), or a tuple with
    one entry per positional argument (an int, None, or a pytree of them);
    ``out_axes`` likewise for the outputs. Inside ``f`` each value looks like
    one example; every primitive runs once on the whole batch through its
    batching rule. Composes with grad, jvp, jacobian and itself.

    ``randomness`` (torch.func's): "different" (the default) gives each example
    its own draw from ``cr.random`` and dropout, "same" one draw shared by the
    batch, "error" makes a draw inside ``f`` raise.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import vmap
    >>> vmap(lambda row: (row * row).sum())(np.arange(6.0).reshape(3, 2))
    array([ 1., 13., 41.])
    """

    if randomness not in ("different", "same", "error"):
        raise ValueError(f"vmap: randomness must be 'different', 'same' or 'error', got {randomness!r}")

    @functools.wraps(f)
    def vmapped(*args, **kwargs):
        if isinstance(in_axes, (tuple, list)):
            if len(in_axes) != len(args):
                raise ValueError(f"vmap: in_axes has {len(in_axes)} entries but the function got {len(args)} "
                                 f"positional arguments")
            per_arg = list(in_axes)
        else:
            per_arg = [in_axes] * len(args)
        specs = []
        size = None
        tensors = has_tensor(args, kwargs)  # Tensors in, Tensors out (any argument decides, as in every transform)
        for i, (arg, ax) in enumerate(zip(args, per_arg)):
            leaves, td, axes = _axes_for(ax, arg, "vmap", "in_axes entry")
            norm = []
            for k, (x, a) in enumerate(zip(leaves, axes)):
                if a is None:
                    norm.append(None)
                    continue
                a = operator.index(a)
                shape = shape_of(x)
                nd = len(shape)
                if not -nd <= a < max(nd, 0) or nd == 0:
                    raise ValueError(f"vmap: in_axes={a} is out of range for argument {i} (leaf {k}) of shape "
                                     f"{shape}")
                a %= nd
                n = shape[a]
                if size is not None and n != size:
                    raise ValueError(f"vmap: mapped axes have different sizes: {size} and {n} (argument {i}, "
                                     f"leaf {k}); every mapped axis must have the batch size")
                size = n
                norm.append(a)
            specs.append((leaves, td, norm))
        if size is None:
            raise ValueError("vmap: no argument is mapped (every in_axes is None); there is no batch size")
        with vmap_level(size, randomness) as lv:
            new_args = []
            for leaves, td, norm in specs:
                vals = []
                for x, a in zip(leaves, norm):
                    if a is None:
                        vals.append(x)
                        continue
                    t = x if isinstance(x, Tensor) else wrap(np.asarray(x))
                    vals.append(make(moveaxis(t, a, 0), lv))
                new_args.append(tree_unflatten(td, vals))
            out = f(*new_args, **kwargs)
            leaves, td = tree_flatten(out)
            _, _, oaxes = _axes_for(out_axes, out, "vmap", "out_axes")
            res = []
            for o, a in zip(leaves, oaxes):
                if a is None:
                    if type(o) is Batched and lv in batch_levels(o):
                        raise ValueError("vmap: out_axes=None for an output that depends on the mapped inputs")
                    res.append(o)
                    continue
                phys = to_level(o if isinstance(o, Tensor) else wrap(np.asarray(o)), lv)
                nd = phys.ndim
                a = operator.index(a)
                if not -nd <= a < nd:
                    raise ValueError(f"vmap: out_axes={a} is out of range for an output of rank {nd - 1}")
                res.append(output(moveaxis(phys, 0, a % nd), tensors, True))
        return tree_unflatten(td, res)

    return vmapped
