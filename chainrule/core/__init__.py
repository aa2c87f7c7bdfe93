"""The engine: Tensor, Node, Primitive, the tape state, the reverse sweep and forward-mode levels."""

__all__ = []  # the engine's names are imported from its modules
