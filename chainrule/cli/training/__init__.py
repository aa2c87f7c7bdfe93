"""The parts of ``python -m chainrule train``: its data, models, schedule, epoch loop, checkpoint and outputs."""
