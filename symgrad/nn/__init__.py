"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``, layers,
losses, ``init`` and ``save``/``load``; ``sg.nn.functional`` is :mod:`symgrad.functional`.

Example:
    >>> import symgrad as sg
    >>> sg.manual_seed(0)
    >>> model = sg.nn.Sequential(sg.nn.Linear(3, 4), sg.nn.ReLU(), sg.nn.Linear(4, 2))
    >>> x, y = sg.randn(8, 3), sg.tensor([0, 1] * 4)
    >>> sg.nn.CrossEntropyLoss()(model(x), y).backward()
    >>> [p.grad.shape for p in model.parameters()]
    [(4, 3), (4,), (2, 4), (2,)]
"""

from symgrad.frontend import functional
from symgrad.nn import init
from symgrad.nn.layers import (
    GELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from symgrad.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from symgrad.nn.module import IncompatibleKeys, Module
from symgrad.nn.parameter import Parameter
from symgrad.nn.serialization import load, save

__all__ = [
    "GELU",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "load",
    "save",
]
