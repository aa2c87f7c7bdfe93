"""Every docstring example in the package runs and prints what it shows (STYLE: a short runnable example)."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import chainrule
from chainrule.core.primitive import NONDIFFERENTIABLE, REGISTRY

MODULES = ["chainrule"] + sorted(
    m.name for m in pkgutil.walk_packages(chainrule.__path__, "chainrule.") if not m.name.endswith("__main__")
)


def test_the_package_has_examples():
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert len(MODULES) > 50 and examples > 300


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files write into a scratch folder
    module = importlib.import_module(name)
    known = set(REGISTRY)
    state = np.random.get_state()
    try:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    finally:
        np.random.set_state(state)
        # an example that declares a primitive (extend's `cube`, `my_softplus`) must not leave it registered
        for added in set(REGISTRY) - known:
            REGISTRY.pop(added)
            NONDIFFERENTIABLE.pop(added, None)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed (see above)"
