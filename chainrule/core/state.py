"""Thread-local recording state: whether the tape records, and which forward-mode levels are live."""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import weakref

import numpy as np

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled", "STATE", "open_level", "close_level"]

# Level tags are never reused: a tangent (or batch axis) left on a value after its
# level closed must not be mistaken for one of a later level with the same depth.
# Tags grow with time, so an inner (later) level always has a higher tag than the
# levels it is nested in, which is the order the forward-mode rules rely on.
_TAGS = itertools.count(1)


class _State(threading.local):
    """Per-thread flags read by every primitive application.

    ``grad``  -- the tape records new nodes.
    ``raw``   -- rules run on bare ndarrays (a first-order backward pass with no
                 forward-mode level live): the same rule code, at NumPy speed.
    ``depth`` -- number of forward-mode and batching levels currently open.
    ``live``  -- the tags of those levels; a tangent whose tag is not here
                 belongs to a level that has closed and is ignored.
    ``vmap``  -- number of batching (vmap) levels open; while nonzero, ``apply``
                 looks for batched operands.
    ``plain`` -- ``grad and not raw and not vmap``, kept up to date by ``set``:
                 the common case, which ``apply`` tells with one read (a
                 thread-local attribute costs a dictionary lookup).
    """

    def __init__(self):
        self.grad = True
        self.raw = False
        self.depth = 0
        self.live = set()
        self.fw_nodes = {}  # level tag -> nodes that saved its tangents (see close_level)
        self.vmap = 0
        self.plain = True

    def set(self, grad=None, raw=None, vmap=None):
        """Change the flags (every write goes through here, so ``plain`` stays right)."""
        if grad is not None:
            self.grad = grad
        if raw is not None:
            self.raw = raw
        if vmap is not None:
            self.vmap = vmap
        self.plain = self.grad and not self.raw and not self.vmap


STATE = _State()


def open_level() -> int:
    """Open a forward-mode or batching level and return its new, never reused tag."""
    tag = next(_TAGS)
    STATE.live.add(tag)
    STATE.depth += 1
    return tag


def close_level(tag: int) -> None:
    STATE.live.discard(tag)
    STATE.depth -= 1
    # The nodes recorded inside the level drop its tangents: they are dead from now on, and a saved
    # output tangent refers back to its node through its own graph (node -> tangent -> ... -> node),
    # a reference cycle that would otherwise outlive the level until the garbage collector ran.
    state = STATE
    refs = state.fw_nodes.pop(tag, None)
    if refs:
        for ref in refs:
            node = ref()
            if node is not None:  # weak references: the list never keeps a dropped part of a graph alive
                outer = node.forget_level(tag)
                if outer is not None and outer in state.live:  # it still holds an enclosing level's tangents
                    state.fw_nodes.setdefault(outer, []).append(ref)


def remember_tangents(node) -> None:
    """Note that ``node`` saved tangents (``arg_fw``/``out_fw``) of live levels, to drop when they close.

    The node is filed under its innermost level (the highest tag, which closes first); closing
    that level moves it to the next one out, if it holds tangents of that one too.
    """
    fw = node.out_fw
    if fw is None:
        fw = {}
        for d in node.arg_fw:
            if d:
                fw.update(d)
    tag = max(fw) if len(fw) > 1 else next(iter(fw))
    refs = STATE.fw_nodes.get(tag)
    if refs is None:
        STATE.fw_nodes[tag] = refs = []
    refs.append(weakref.ref(node))


def live_tangents(fw):
    """``fw`` ({tag: tangent} or None) without the tangents of closed levels; None when none is left."""
    if fw is None:
        return None
    live = STATE.live
    for k in fw:
        if k not in live:
            break
    else:
        return fw
    keep = {k: v for k, v in fw.items() if k in live}
    return keep or None


def is_grad_enabled() -> bool:
    """True when operations on Tensors are being recorded."""
    return STATE.grad


class _GradMode:
    """A context manager and decorator (of functions and of generators) that sets recording inside."""

    mode = True

    def __init__(self, orig_func=None):
        self.prev = []

    def __new__(cls, orig_func=None):
        # `@cr.no_grad` without parentheses decorates at once, as in PyTorch
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self):
        self.prev.append(STATE.grad)
        STATE.set(grad=self.mode)
        return self

    def __exit__(self, *exc):
        STATE.set(grad=self.prev.pop())
        return False

    def clone(self):
        return type(self)()

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, self.clone)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper


def _wrap_generator(fn, mode):
    """``fn``'s generator with every step (start, send, throw, close) run under ``mode()``, not the caller's mode."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with mode():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with mode():
                        gen.close()
                    raise
                except BaseException as e:  # noqa: BLE001 - handed to the generator, as PyTorch does
                    with mode():
                        response = gen.throw(e)
                else:
                    with mode():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return wrapper


class set_grad_enabled(_GradMode):
    """Turn recording on or off: as a call (it takes effect at once), a context manager or a decorator.

    >>> import chainrule as cr
    >>> with cr.set_grad_enabled(False):
    ...     y = cr.tensor(1.0, requires_grad=True) * 2
    >>> y.requires_grad
    False
    >>> _ = cr.set_grad_enabled(False); cr.is_grad_enabled()
    False
    >>> _ = cr.set_grad_enabled(True); cr.is_grad_enabled()
    True
    """

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {type(mode).__name__} "
                            f"(as a decorator: @cr.set_grad_enabled(False))")
        # as PyTorch: the mode changes here, so that a plain call `cr.set_grad_enabled(False)` works
        self.prev = STATE.grad
        self.mode = bool(mode)
        STATE.set(grad=self.mode)

    def __enter__(self):
        STATE.set(grad=self.mode)  # entered later than made, as PyTorch
        return self

    def __exit__(self, *exc):
        STATE.set(grad=self.prev)
        return False

    def clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        STATE.set(grad=self.prev)  # used as a decorator: the mode applies inside fn only
        return super().__call__(fn)


class no_grad(_GradMode):
    """Stop recording: results of operations inside do not require grad (``@cr.no_grad`` works too).

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * x
    >>> y.requires_grad
    False
    >>> @cr.no_grad
    ... def f(x):
    ...     return x * x
    >>> f(x).requires_grad
    False
    """

    mode = False


class enable_grad(_GradMode):
    """Resume recording inside a ``no_grad`` block.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> with cr.no_grad():
    ...     with cr.enable_grad():
    ...         y = x * x
    >>> y.requires_grad
    True
    """

    mode = True


class raw_mode:
    """Internal: run rules on ndarrays with recording off (a first-order backward pass)."""

    __slots__ = ("prev",)

    def __init__(self, on: bool):
        self.prev = (STATE.raw, STATE.grad, on)

    def __enter__(self):
        on = self.prev[2]
        STATE.set(raw=on, grad=False if on else None)
        return self

    def __exit__(self, *exc):
        STATE.set(raw=self.prev[0], grad=self.prev[1])
        return False
