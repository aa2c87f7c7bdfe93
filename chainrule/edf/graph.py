"""EDF's graph and core as the notes write them: CompNodes, Parameters, the three kinds of node, Forward, Backward, SGD.

The notes keep ``CompNodes`` and ``Parameters`` as module globals. Here they belong to a
:class:`Graph`; the module-level names ``CompNodes`` and ``Parameters`` stand for the lists of the
current graph (the one of the innermost ``with Graph():``, else a default graph), so the notes' code
(``CompNodes.append(self)`` in every node's ``__init__``) runs unchanged and two graphs never share
a list by accident. The notes' global ``learning_rate`` is the graph's too: ``Graph(learning_rate=...)``,
or ``edf.learning_rate = ...`` for the current graph.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CompNode", "CompNodes", "EDFError", "Graph", "Input", "Parameter", "ParameterPackage", "Parameters",
           "Forward", "Backward", "SGD", "current", "inputs_of", "describe", "as_function"]


class EDFError(ValueError):
    """A node broke an EDF convention (a gradient of the wrong shape, an input with no value, a backward that
    passes no gradient); the message names the node."""


_STACK = []  # the graphs of the enclosing ``with Graph():`` blocks, innermost last
_RUNNING = [None]  # the node whose backward is running, named when an addgrad refuses its gradient


class Graph:
    """One EDF computation graph: its ``CompNodes`` and ``Parameters`` in creation order, its ``learning_rate``.

    Nodes made inside ``with graph:`` join ``graph``; outside any ``with`` they join the default graph,
    as the notes' globals do.

    >>> from chainrule import edf
    >>> import numpy as np
    >>> with edf.Graph(learning_rate=0.5) as g:
    ...     x = edf.Input(); x.value = np.array([[1.0, 2.0]])
    ...     w = edf.Parameter(np.array([3.0, -1.0]))
    ...     v = edf.VDot(x, w)
    >>> g.Forward(); g.Backward(v); g.SGD()
    >>> v.value, w.value
    (array([1.]), array([ 2.5, -2. ]))
    """

    def __init__(self, learning_rate=0.1):
        self.CompNodes = []
        self.Parameters = []
        self.learning_rate = learning_rate
        self.nBatch = None  # set by Backward from the loss's leading (minibatch) axis

    def __enter__(self):
        _STACK.append(self)
        return self

    def __exit__(self, *exc):
        _STACK.remove(self)

    def Forward(self):
        """Every node's ``forward``, in creation order (the notes' ``Forward()``)."""
        with self:
            for c in self.CompNodes:
                _forward(c)

    def Backward(self, loss, grad=None):
        """Zero every ``grad``, set ``loss.grad = 1/nBatch``, run every ``backward`` in reverse order.

        ``grad`` replaces 1/nBatch as the loss's gradient: the seed when EDF runs inside a larger
        computation (the train command's ``--model edf``).
        """
        with self:
            for c in self.CompNodes + self.Parameters:
                c.grad = 0
            shape = np.shape(getattr(loss, "value", None))
            if not shape:
                raise EDFError(f"Backward: the loss {describe(loss)} has a value of shape {shape}; an EDF loss keeps "
                               f"the minibatch index first, one loss per example (shape (nBatch,))")
            self.nBatch = shape[0]
            loss.grad = 1 / self.nBatch if grad is None else grad
            try:
                for c in self.CompNodes[::-1]:
                    _RUNNING[0] = c
                    c.backward()
            finally:
                _RUNNING[0] = None

    def SGD(self):
        """Every Parameter's ``SGD`` step, with this graph's ``learning_rate``."""
        with self:
            for p in self.Parameters:
                p.SGD()

    def __chainrule_graph__(self):
        """``(f, args, names)`` for ``cr.explain`` and ``cr.viz.draw``: the forward pass as a chainrule function."""
        return as_function(self)

    def __repr__(self):
        return f"<edf.Graph: {len(self.CompNodes)} CompNodes, {len(self.Parameters)} Parameters>"


DEFAULT = Graph()


def current():
    """The graph new nodes join: the innermost ``with Graph():``, else the default graph."""
    return _STACK[-1] if _STACK else DEFAULT


class _CurrentList:
    """``CompNodes`` or ``Parameters`` of the current graph: the notes' ``CompNodes.append(self)`` works as printed."""

    def __init__(self, name):
        self._name = name

    def _list(self):
        return getattr(current(), self._name)

    def append(self, node):
        self._list().append(node)

    def __iter__(self):
        return iter(self._list())

    def __len__(self):
        return len(self._list())

    def __getitem__(self, k):
        return self._list()[k]

    def __add__(self, other):
        return self._list() + list(other)

    def __radd__(self, other):
        return list(other) + self._list()

    def __repr__(self):
        return repr(self._list())


CompNodes = _CurrentList("CompNodes")
Parameters = _CurrentList("Parameters")


def Forward():
    """The notes' ``Forward()`` on the current graph: ``for c in CompNodes: c.forward()``."""
    current().Forward()


def Backward(loss):
    """The notes' ``Backward(loss)`` on the current graph: grads to 0, ``loss.grad = 1/nBatch``, backward in reverse."""
    current().Backward(loss)


def SGD():
    """The notes' ``SGD()`` on the current graph: ``for p in Parameters: p.SGD()``."""
    current().SGD()


# ---- the three kinds of node -----------------------------------------------------------------------
class Input:
    """An input node: set its ``value`` (minibatch index first) before ``Forward()``; it takes no gradient."""

    def __init__(self):
        pass

    def addgrad(self, delta):
        _same_shape(self, delta)  # the notes' Input ignores its gradient; its shape is still checked


class CompNode:
    """A computation node; a subclass's ``__init__`` does ``CompNodes.append(self)`` and keeps its inputs."""

    # initialization is handled by the subclass

    def addgrad(self, delta):
        _same_shape(self, delta)
        self.grad += delta


class Parameter:
    """A parameter: a ``value`` without a minibatch index; ``addgrad`` sums over the minibatch; ``SGD`` steps."""

    def __init__(self, value):
        Parameters.append(self)
        value = np.asarray(value)
        # SGD updates value in place: an integer array could not hold the step
        self.value = value.astype(np.float64) if value.dtype.kind in "iub" else value

    def addgrad(self, delta):
        _per_example(self, delta)
        # sums over the minibatch
        self.grad += np.sum(delta, axis=0)

    def SGD(self):
        grad = getattr(self, "grad", 0)
        if np.shape(grad) != np.shape(self.value):
            why = ("no backward passed it a gradient" if np.ndim(grad) == 0 else
                   "a backward added to its .grad without addgrad's sum over the minibatch")
            raise EDFError(f"SGD: a Parameter of shape {np.shape(self.value)} has a grad of shape {np.shape(grad)}: "
                           f"{why}")
        self.value -= current().learning_rate * self.grad


class ParameterPackage:
    """A "parameter package" such as the notes' ``Phi``: named Parameters, e.g. ``Phi.w`` and ``Phi.b`` of an Affine.

    Arrays given are made Parameters. The notes write ``Phi.w``/``Phi.b`` in one place and
    ``Phi.W``/``Phi.B`` in another; both spellings reach the same Parameter.

    >>> import numpy as np
    >>> from chainrule import edf
    >>> with edf.Graph():
    ...     Phi = edf.ParameterPackage(w=np.zeros((3, 2)), b=np.zeros(2))
    >>> Phi.W is Phi.w, Phi.b.value.shape
    (True, (2,))
    """

    def __init__(self, **parameters):
        for name, p in parameters.items():
            setattr(self, name, p if isinstance(p, Parameter) else Parameter(p))

    def __getattr__(self, name):
        alias = {"W": "w", "B": "b"}.get(name)
        if alias is not None and alias in self.__dict__:
            return self.__dict__[alias]
        raise AttributeError(f"this parameter package has no {name!r} (it has {', '.join(self.__dict__)})")

    def __repr__(self):
        return f"ParameterPackage({', '.join(self.__dict__)})"


# ---- naming nodes and their inputs, for the errors and for check ---------------------------------------------
def _is_node(obj):
    return isinstance(obj, (Input, Parameter, CompNode))


def inputs_of(node):
    """``[(label, input)]``: the nodes ``node`` keeps as attributes (``x``) and its packages' Parameters (``Phi.w``)."""
    found = []
    for name, obj in vars(node).items():
        if name.startswith("_") or name in ("value", "grad"):
            continue
        if _is_node(obj) and obj is not node:
            found.append((name, obj))
        elif not _is_node(obj) and hasattr(obj, "__dict__") and not isinstance(obj, type):
            found += [(f"{name}.{k}", p) for k, p in vars(obj).items() if isinstance(p, Parameter)]
    return found


def describe(node):
    """A node's class name, as the errors and the check name it."""
    return type(node).__name__


def _label(receiver):
    """How the running backward's node knows ``receiver``: ``Relu → x`` (or the receiver's class)."""
    caller = _RUNNING[0]
    if caller is not None:
        for label, obj in inputs_of(caller):
            if obj is receiver:
                return f"{describe(caller)}.backward passed its input {label} ({describe(receiver)})"
    return f"{describe(receiver)}.addgrad got"


def _same_shape(node, delta):
    want = np.shape(getattr(node, "value", None))
    if np.shape(delta) != want:
        raise EDFError(f"{_label(node)} a gradient of shape {np.shape(delta)}, but its value has shape {want}: "
                       f"x.grad.shape must be x.value.shape")


def _per_example(param, delta):
    want = np.shape(param.value)
    got = np.shape(delta)
    caller = _RUNNING[0]
    batch = np.shape(caller.value)[0] if np.ndim(getattr(caller, "value", None)) else current().nBatch
    if len(got) != len(want) + 1 or got[1:] != want or (batch is not None and got[0] != batch):
        dims = ["nBatch" if batch is None else str(batch), *map(str, want)]
        shape = f"({', '.join(dims)}{',' * (len(dims) == 1)})"
        raise EDFError(f"{_label(param)} a gradient of shape {got}, but a Parameter of shape {want} takes one per "
                       f"example, shape {shape}: Parameter.addgrad sums over the minibatch")


def _forward(c):
    """``c.forward()``, with an input that has no value named instead of an AttributeError."""
    for label, obj in inputs_of(c):
        if not hasattr(obj, "value"):
            raise EDFError(f"{describe(c)}.forward: its input {label} ({describe(obj)}) has no value; set "
                           f"{label}.value (minibatch index first) before Forward()")
    c.forward()


def _is_float(value):
    return np.asarray(value).dtype.kind == "f"


# ---- cr.explain and cr.viz.draw -------------------------------------------------------------------------
def as_function(graph):
    """``(f, args, names)``: ``f(*args)`` runs the graph's forward through chainrule and returns the mean loss.

    The args are the float Inputs' and the Parameters' values, named by the attribute the first node
    using them keeps them under (``x``; ``Phi1.w`` for the first package's ``w``); integer Inputs
    (class labels) are data, closed over. The loss is the last CompNode's, averaged over the
    minibatch as ``Backward`` does (``loss.grad = 1/nBatch``).
    """
    nodes = list(graph.CompNodes)
    if not nodes:
        raise EDFError("explain: the EDF graph has no CompNodes")
    if any(not hasattr(c, "value") for c in nodes):
        graph.Forward()
    packages = {}  # id of a parameter package -> its number
    for c in nodes:
        for name, obj in vars(c).items():
            if not name.startswith("_") and not isinstance(obj, (Input, Parameter)) and hasattr(obj, "__dict__"):
                if any(isinstance(p, Parameter) for p in vars(obj).values()):
                    packages.setdefault(id(obj), len(packages) + 1)
    leaves, names, seen = [], [], set()
    for c in nodes:
        for label, obj in inputs_of(c):
            if id(obj) in seen or not isinstance(obj, (Input, Parameter)) or not _is_float(obj.value):
                continue
            seen.add(id(obj))
            if "." in label and len(packages) > 1:
                owner = getattr(c, label.split(".")[0])
                label = label.replace(".", f"{packages[id(owner)]}.", 1)
            while label in names:
                label += "'"
            leaves.append(obj)
            names.append(getattr(obj, "name", label))

    def loss(*values):
        saved = [(obj, obj.value) for obj in leaves] + [(c, vars(c).get("value")) for c in nodes]
        try:
            for obj, value in zip(leaves, values):
                obj.value = value
            for c in nodes:
                c.forward()
            return np.mean(nodes[-1].value)
        finally:
            for obj, value in saved:
                obj.value = value

    return loss, [obj.value for obj in leaves], names
