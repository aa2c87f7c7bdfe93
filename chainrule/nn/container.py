"""Containers and shape layers: Sequential, ModuleList, Flatten."""

from __future__ import annotations

import math
import operator
from collections import OrderedDict

from .module import Module

__all__ = ["Sequential", "ModuleList", "Flatten"]


class _ModuleSequence(Module):
    """Modules kept in order, named by position unless given names: what Sequential and ModuleList share."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end (named by its position)."""
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied one after another; children are named "0", "1", ... (or by an OrderedDict's keys).

    >>> from chainrule import nn
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    >>> len(model), type(model[0]).__name__, list(model.state_dict())
    (2, 'Linear', ['0.weight', '0.bias'])
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def _index(self, idx):
        n = len(self._modules)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"Sequential index {idx} is out of range for {n} modules")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules)[self._index(idx)]
        self.add_module(key, module)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (named "0", "1", ...)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[idx]

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self


class Flatten(Module):
    """Flatten axes ``start_dim`` .. ``end_dim`` into one (PyTorch's names; default keeps the batch axis).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> nn.Flatten()(cr.zeros((2, 3, 4, 5), dtype=np.float32)).shape
    (2, 60)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        shape = tuple(x.shape)
        nd = len(shape)
        s = self.start_dim % nd if nd else 0
        e = self.end_dim % nd if nd else 0
        if s > e:
            raise ValueError(
                f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} for shape {shape}"
            )
        new = shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :]
        return x if new == shape else x.reshape(new)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
