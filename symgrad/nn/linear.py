"""``Identity`` and ``Linear``: the layers that pass their input through or apply one
affine map, as ``torch.nn.Identity`` and ``torch.nn.Linear``.

Example:
    >>> import symgrad as sg
    >>> _ = sg.manual_seed(0)
    >>> model = sg.nn.Sequential(sg.nn.Linear(4, 8), sg.nn.Tanh(), sg.nn.Linear(8, 2))
    >>> model(sg.randn(5, 4)).shape
    (5, 2)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad.dtypes import canonical, get_default_dtype
from symgrad.frontend.tensor import Tensor
from symgrad.nn import init
from symgrad.nn._helpers import check_device
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


class Identity(Module):
    """Returns its input unchanged: a placeholder layer, e.g. to drop a block from a
    model without changing its structure.  Any constructor arguments are accepted and
    ignored, as in PyTorch; it has no parameters.

    Example:
        >>> import symgrad as sg
        >>> Identity(54, unused="x")(sg.tensor([1.0]))
        tensor([1.])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        """Return ``input`` itself (the same object, not a copy).

        >>> import symgrad as sg
        >>> x = sg.ones(2)
        >>> Identity()(x) is x
        True
        """
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` of shape ``(out_features, in_features)``
    and ``bias`` of shape ``(out_features,)`` (no bias with ``bias=False``).

    The input may have any number of leading dims, ``(*, in_features)``; a last dim of
    another size raises ``ShapeError`` from the matmul.  Initialised as PyTorch does:
    ``kaiming_uniform_(weight, a=sqrt(5))``, i.e. weight and bias uniform in
    ``(-1/sqrt(in_features), 1/sqrt(in_features))``, drawn from the generator
    :func:`symgrad.manual_seed` seeds (the numbers differ from PyTorch's).  Default
    dtype: ``sg.get_default_dtype()``; ``device`` may only be ``None`` or ``'cpu'``
    (anything else raises ``ValueError``).

    Example:
        >>> import symgrad as sg
        >>> layer = sg.nn.Linear(3, 2)
        >>> layer
        Linear(in_features=3, out_features=2, bias=True)
        >>> layer.weight.shape, layer(sg.ones(4, 3)).shape
        ((2, 3), (4, 2))
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: object = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        dtype = canonical(dtype) if dtype is not None else get_default_dtype()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights (and bias) in place with PyTorch's default rule, from the
        generator :func:`symgrad.manual_seed` seeds; the Parameter objects stay the same.

        >>> import symgrad as sg
        >>> layer = Linear(4, 1)
        >>> w = layer.weight
        >>> layer.reset_parameters()
        >>> layer.weight is w, bool(abs(w.numpy()).max() <= 0.5)
        (True, True)
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        """``input @ weight.T + bias`` for ``input`` of shape ``(*, in_features)``.

        >>> import symgrad as sg
        >>> layer = Linear(2, 1, bias=False)
        >>> layer.weight.data = sg.tensor([[1.0, 2.0]])
        >>> layer(sg.tensor([[3.0, 4.0]]))
        tensor([[11.]], grad_fn=<recorded>)
        """
        out = input @ self.weight.T
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        """The sizes and whether there is a bias, as shown inside the repr.

        >>> Linear(3, 2, bias=False).extra_repr()
        'in_features=3, out_features=2, bias=False'
        """
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


__all__ = ["Identity", "Linear"]
