"""``cr.optim``: SGD, Adam and AdamW with ``torch.optim``'s updates and state dicts."""

from .adam import Adam, AdamW
from .optimizer import Optimizer, flatten_state_dict, unflatten_state_dict
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "flatten_state_dict", "unflatten_state_dict"]
