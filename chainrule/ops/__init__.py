"""The rule table, one module per family of primitives."""

from . import elementwise, methods, reduce, shape  # noqa: F401

for _family in (reduce, shape):
    methods.install(_family.METHODS)
