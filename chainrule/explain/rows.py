"""The rows of an explanation: the Wengert list, the adjoint terms and sums, the gradients, and :class:`Explanation`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..viz.notation import bar
from ..viz.table import render

__all__ = ["BackwardRow", "ConstantRow", "Explanation", "ForwardRow", "GradientRow", "Term"]


# ---- the rows ------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConstantRow:
    """A constant operand (a number or array in the code): ``text`` is how it appears in an expression."""

    name: str
    text: str
    value: np.ndarray


@dataclass(frozen=True, eq=False)
class ForwardRow:
    """One assignment of the Wengert list, ``name = expr = value``; in forward mode also its tangent.

    ``kind`` is ``"input"`` (an argument differentiated), ``"parameter"`` (a Parameter, or a Tensor the
    function captured: ``label`` is then its name there, ``0.weight`` for a Module's), ``"data"`` (an
    argument left out by ``argnums``) or ``"operation"``. ``inputs`` names the operands in order: variables
    (``v2``) and constants (``c1``); an argument that was not a value (a ``None`` bias) is not an operand.
    """

    name: str
    kind: str
    op: str
    expr: str
    value: np.ndarray
    inputs: tuple = ()
    label: str | None = None
    tangent: np.ndarray | None = None
    tangent_terms: tuple = ()


@dataclass(frozen=True, eq=False)
class Term:
    """One path's share: reverse ``v̄j · ∂vj/∂vi`` (``source`` = the child vj), forward ``∂vi/∂vj · v̇j``.

    ``local`` holds the local partial's numbers when it is a number (``kind="scalar"``) or a diagonal
    (``"elementwise"``, shown with ∘); for other tensor operations (``"vjp"``/``"jvp"``) only the
    product itself, ``value``, is computed, by the primitive's own rule. A child that uses its parent
    twice (``x * x``) has one edge per use: ``shares`` holds each edge's part, in operand order, and
    ``value`` is their sum.
    """

    source: str
    partial: str
    rule: str | None
    kind: str
    upstream: np.ndarray
    local: np.ndarray | None
    value: np.ndarray
    shares: tuple = ()

    @property
    def symbol(self):
        """· for a product with a number or a vector-Jacobian product, ∘ for an elementwise (Hadamard) one."""
        return "∘" if self.kind == "elementwise" else "·"


@dataclass(frozen=True, eq=False)
class BackwardRow:
    """``v̄i = Σ_children v̄j · ∂vj/∂vi``: the adjoint of ``name`` and the terms it sums (none for the output)."""

    name: str
    adjoint: np.ndarray
    terms: tuple = ()

    @property
    def expr(self):
        """The symbolic sum, ``v̄3 · ∂v3/∂v2 + v̄4 · ∂v4/∂v2`` (``1`` for the output's seed)."""
        return " + ".join(f"{bar(t.source)} {t.symbol} {t.partial}" for t in self.terms) or "1"


@dataclass(frozen=True, eq=False)
class GradientRow:
    """The gradient of the output with respect to one input: ``∂f/∂x = x̄ = v̄1``."""

    label: str
    name: str
    value: np.ndarray


@dataclass(eq=False)
class Explanation:
    """What :func:`explain` returns: ``str()`` is the table; the rows are data.

    ``forward`` (:class:`ForwardRow`), ``backward`` (:class:`BackwardRow`, reverse mode, output first),
    ``gradients`` (:class:`GradientRow`, reverse mode), ``constants`` (:class:`ConstantRow`);
    ``output`` names the output variable, ``value`` is its value, ``tangent`` its tangent (forward mode).
    ``letter`` is the variables' letter: ``v`` unless an argument is itself called ``v1``, ``v2``, ...;
    ``arguments`` are the names of ``f``'s arguments (the parameters it captured are not among them).

    >>> import chainrule as cr
    >>> ex = cr.explain(lambda x, y: x * y, 2.0, 3.0)
    >>> ex.row("x").name, float(ex.adjoint("y")), ex.forward[-1].expr
    ('v1', 2.0, 'v1 · v2')
    """

    mode: str
    function: str
    forward: tuple
    backward: tuple
    gradients: tuple
    constants: tuple
    output: str
    value: np.ndarray
    seed: np.ndarray | None = None
    tangent: np.ndarray | None = None
    precision: int = 6
    letter: str = "v"
    arguments: tuple = ()

    def row(self, name):
        """The forward row of variable ``name`` (``"v4"``), or else of an input's label (``"x"``)."""
        for key in ("name", "label"):
            for r in self.forward:
                if getattr(r, key) == name:
                    return r
        raise KeyError(name)

    def adjoint(self, name):
        """The adjoint v̄ of variable ``name`` or input label, as an array."""
        target = self.row(name).name
        for r in self.backward:
            if r.name == target:
                return r.adjoint
        raise KeyError(f"{name} has no adjoint (it does not depend on a differentiated input)")

    def to_text(self, ascii=False):
        """The table as text; ``ascii=True`` spells v̄3 as v3_bar and · as * for plain terminals."""
        return render(self, ascii=ascii)

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return f"<Explanation of {self.function} ({self.mode} mode): {len(self.forward)} assignments>"

    def _repr_pretty_(self, printer, cycle):  # IPython and Jupyter print the table
        printer.text(str(self))
