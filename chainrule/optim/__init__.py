"""``cr.optim``: SGD, Adam, AdamW, RMSprop and Adagrad with ``torch.optim``'s updates and state dicts; lr_scheduler."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer, flatten_state_dict, unflatten_state_dict
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "flatten_state_dict", "unflatten_state_dict",
    "RMSprop",
    "Adagrad",
    "lr_scheduler",
]
