"""Every module of chainrule names its public names in an explicit ``__all__``, and each of them exists."""

import ast
import importlib
import pathlib

import pytest

import chainrule

PACKAGE = pathlib.Path(chainrule.__file__).parent
MODULES = sorted(
    ".".join(("chainrule", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
)


def _all_assignment(path):
    """The ``__all__ = [...]`` statement at the top level of a module's source, or None."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return node
    return None


def test_every_module_is_found():
    assert "chainrule.ops.methods" in MODULES and "chainrule.cli.training.loop" in MODULES and len(MODULES) > 80


@pytest.mark.parametrize("name", MODULES)
def test_the_module_lists_its_public_names(name):
    path = PACKAGE.joinpath(*name.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    assert _all_assignment(path) is not None, f"{name} has no __all__ = [...] at its top level"
    module = importlib.import_module(name)
    listed = list(module.__all__)
    assert len(listed) == len(set(listed)), f"{name}.__all__ lists a name twice"
    assert not [n for n in listed if n.startswith("_")], f"{name}.__all__ lists a private name"
    assert not [n for n in listed if not hasattr(module, n)], f"{name}.__all__ lists names the module lacks"
