"""``cr.nn``: layers, containers, losses and initialisations with PyTorch's names, layouts and defaults."""

from . import functional, init, parallel
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import Flatten, ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter
from .normalization import BatchNorm1d, LayerNorm
from .pooling import MaxPool2d
from .rnn import RNN, RNNCell
from .summary import summary

__all__ = [
    "Module", "Parameter", "functional", "init", "parallel",
    "Linear", "Identity", "Conv2d", "MaxPool2d", "Flatten", "Sequential", "ModuleList",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout",
    "BatchNorm1d", "LayerNorm", "Embedding", "RNN", "RNNCell",
    "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "summary",
]
