"""The parts of ``python -m chainrule train``: its data, models, schedule, epoch loop, checkpoint and outputs."""

__all__ = []  # the parts are imported from their modules
