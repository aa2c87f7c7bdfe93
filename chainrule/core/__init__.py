"""The engine: Tensor, Node, Primitive, the tape state, the reverse sweep and forward-mode levels."""
