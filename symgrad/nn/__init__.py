"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``, layers,
losses, containers, ``init``, ``utils`` and ``save``/``load``; ``sg.nn.functional`` is the
module :mod:`symgrad.nn.functional` (``import symgrad.nn.functional as F``).

Example:
    >>> import symgrad as sg
    >>> _ = sg.manual_seed(0)
    >>> model = sg.nn.Sequential(sg.nn.Linear(3, 4), sg.nn.ReLU(), sg.nn.Linear(4, 2))
    >>> x, y = sg.randn(8, 3), sg.tensor([0, 1] * 4)
    >>> sg.nn.CrossEntropyLoss()(model(x), y).backward()
    >>> [p.grad.shape for p in model.parameters()]
    [(4, 3), (4,), (2, 4), (2,)]
"""

from symgrad.nn import functional, init, utils
from symgrad.nn.activations import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from symgrad.nn.containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from symgrad.nn.conv import Conv1d, Conv2d
from symgrad.nn.dropout import Dropout
from symgrad.nn.embedding import Embedding
from symgrad.nn.flatten import Flatten, Unflatten
from symgrad.nn.linear import Identity, Linear
from symgrad.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from symgrad.nn.module import IncompatibleKeys, Module
from symgrad.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from symgrad.nn.parameter import Parameter
from symgrad.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from symgrad.nn.sequential import Sequential
from symgrad.nn.serialization import load, save

__all__ = [
    "GELU",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
    "load",
    "save",
    "utils",
]
