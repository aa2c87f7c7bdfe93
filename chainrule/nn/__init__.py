"""``cr.nn``: layers, containers, losses and initialisations with PyTorch's names, layouts and defaults."""

from . import functional, init, parallel
from . import utils
from .attention import MultiheadAttention
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .activation import ELU
from .activation import GELU
from .activation import SiLU
from .activation import Softplus
from .container import Flatten, ModuleList, Sequential
from .conv import Conv2d
from .conv import Conv1d
from .conv import ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .loss import HuberLoss
from .loss import KLDivLoss
from .loss import L1Loss
from .loss import SmoothL1Loss
from .module import Module, Parameter
from .normalization import BatchNorm1d, LayerNorm
from .normalization import BatchNorm2d
from .normalization import GroupNorm
from .pooling import MaxPool2d
from .pooling import MaxPool1d
from .pooling import AvgPool2d
from .pooling import AdaptiveAvgPool2d
from .transformer import TransformerEncoder, TransformerEncoderLayer
from .recurrent_cells import GRUCell, LSTMCell
from .rnn import GRU, LSTM, RNN, RNNCell
from .summary import summary

__all__ = [
    "Module", "Parameter", "functional", "init", "parallel",
    "Linear", "Identity", "Conv2d", "MaxPool2d", "Flatten", "Sequential", "ModuleList",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout",
    "BatchNorm1d", "LayerNorm", "Embedding", "RNN", "RNNCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "LSTM", "GRU", "LSTMCell", "GRUCell",
    "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "GELU",
    "SiLU",
    "Softplus",
    "ELU",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "KLDivLoss",
    "utils",
    "Conv1d",
    "ConvTranspose2d",
    "MaxPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm2d",
    "GroupNorm",
    "summary",
]
