"""Saving and loading named arrays (safetensors format, never pickle)."""

from chainrule.io.safetensors import load, save

__all__ = ["load", "save"]
