"""Weight initialisation with PyTorch's formulas (``torch.nn.init``).

Each function fills the tensor's array in place, drawing from the generator that
:func:`symgrad.manual_seed` seeds (or from ``generator=``), and returns the tensor.

Example:
    >>> import symgrad as sg
    >>> w = sg.zeros(3, 4)
    >>> sg.nn.init.constant_(w, 0.5) is w
    True
    >>> _ = sg.manual_seed(0)
    >>> bound = sg.nn.init.kaiming_uniform_(w, a=5 ** 0.5).numpy().max()
    >>> bool(bound <= 1 / 4 ** 0.5)
    True
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from symgrad.frontend import creation
from symgrad.frontend.tensor import Tensor

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def _fill(tensor: Tensor, values: np.ndarray | float) -> Tensor:
    np.copyto(tensor.numpy(), values, casting="unsafe")
    return tensor


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return creation.generator() if generator is None else generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    >>> calculate_gain("relu") == 2 ** 0.5, calculate_gain("tanh")
    (True, 1.6666666666666667)
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)``: dim 1 and dim 0 times the receptive field (dims 2 and up).

    >>> _calculate_fan_in_and_fan_out(creation.zeros(16, 4))
    (4, 16)
    """
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with samples from ``U(a, b)``.

    >>> import symgrad as sg
    >>> bool((uniform_(sg.zeros(100), -2.0, -1.0).numpy() < -1.0).all())
    True
    """
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Fill with samples from ``N(mean, std²)``.

    >>> import symgrad as sg
    >>> normal_(sg.zeros(2, 2), std=0.0).numpy().tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    >>> import symgrad as sg
    >>> constant_(sg.zeros(2), 3.0)
    tensor([3., 3.])
    """
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    >>> import symgrad as sg
    >>> ones_(sg.zeros(2))
    tensor([1., 1.])
    """
    return _fill(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    >>> import symgrad as sg
    >>> zeros_(sg.ones(2))
    tensor([0., 0.])
    """
    return _fill(tensor, 0.0)


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot uniform: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import symgrad as sg
    >>> bool(abs(xavier_uniform_(sg.zeros(3, 3)).numpy()).max() <= 1.0)
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot normal: ``N(0, std²)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> import symgrad as sg
    >>> xavier_normal_(sg.zeros(4, 5)).shape
    (4, 5)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``; ``a`` is the leaky slope.

    ``a=sqrt(5)`` (``nn.Linear``'s default) gives ``b = 1 / sqrt(fan_in)``.

    >>> import symgrad as sg
    >>> bool(abs(kaiming_uniform_(sg.zeros(8, 25), a=5**0.5).numpy()).max() <= 0.2)
    True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He normal: ``N(0, std²)`` with ``std = gain / sqrt(fan)``.

    >>> import symgrad as sg
    >>> kaiming_normal_(sg.zeros(4, 5), nonlinearity="relu").shape
    (4, 5)
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
