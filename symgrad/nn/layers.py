"""The layers that used to live here, re-exported from their own modules so that
``from symgrad.nn.layers import Linear`` keeps working: :mod:`symgrad.nn.linear`
(``Identity``, ``Linear``), :mod:`symgrad.nn.sequential`, :mod:`symgrad.nn.activations`,
:mod:`symgrad.nn.flatten` (``Flatten``) and :mod:`symgrad.nn.dropout`.  New code
imports them from ``symgrad.nn``.

Example:
    >>> import symgrad as sg
    >>> from symgrad.nn.layers import Linear
    >>> Linear is sg.nn.Linear
    True
"""

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
from symgrad.nn.dropout import Dropout
from symgrad.nn.flatten import Flatten
from symgrad.nn.linear import Identity, Linear
from symgrad.nn.sequential import Sequential

__all__ = [
    "GELU",
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]
