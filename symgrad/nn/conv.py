"""Convolution layers: ``Conv1d`` and ``Conv2d`` (stride, padding, dilation, groups, bias,
``padding_mode``), initialised as PyTorch does.

Example:
    >>> import symgrad as sg
    >>> _ = sg.manual_seed(0)
    >>> conv = sg.nn.Conv2d(3, 8, kernel_size=3, padding=1)
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv(sg.randn(2, 3, 5, 5)).shape
    (2, 8, 5, 5)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad.dtypes import canonical, get_default_dtype
from symgrad.errors import ShapeError, shape_str
from symgrad.frontend.conv import IntOrTuple, ntuple
from symgrad.frontend.tensor import Tensor
from symgrad.nn import functional as F
from symgrad.nn import init
from symgrad.nn._helpers import check_device
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share; ``dims`` is the number of spatial dims."""

    dims = 0
    layout = ""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrTuple,
        stride: IntOrTuple = 1,
        padding: IntOrTuple | str = 0,
        dilation: IntOrTuple = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: object = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        name, d = type(self).__name__, self.dims
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, d, "kernel_size", name)
        self.stride = ntuple(stride, d, "stride", name)
        self.dilation = ntuple(dilation, d, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'valid', 'same' or ints")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions"
                )
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = ntuple(padding, d, "padding", name)
        self.groups, self.padding_mode = groups, padding_mode
        dtype = canonical(dtype) if dtype is not None else get_default_dtype()
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's rule, in place: ``kaiming_uniform_(weight, a=sqrt(5))``, bias uniform in
        ``±1/sqrt(fan_in)``, from the generator :func:`symgrad.manual_seed` seeds.

        >>> conv = Conv1d(2, 1, 3)
        >>> conv.reset_parameters()
        >>> bool(abs(conv.weight.numpy()).max() <= 1 / 6 ** 0.5)
        True
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _pad_sizes(self) -> list[int]:
        """``F.pad`` sizes (last dim first) for a non-zero ``padding_mode``."""
        if self.padding == "valid":
            return [0, 0] * self.dims
        sizes = []
        for j in reversed(range(self.dims)):
            if self.padding == "same":
                total = self.dilation[j] * (self.kernel_size[j] - 1)
                sizes += [total // 2, total - total // 2]
            else:
                sizes += [self.padding[j]] * 2
        return sizes

    def forward(self, input: Tensor) -> Tensor:
        """The convolution of ``input`` (``(N, C_in, *spatial)`` or unbatched
        ``(C_in, *spatial)``), padded first by ``padding_mode`` when it is not
        ``'zeros'``.  Another rank or channel count raises ``ShapeError``.  Inside
        :func:`symgrad.compile` the spatial sizes specialise the trace (another size
        traces again); the batch size stays symbolic.

        >>> import symgrad as sg
        >>> conv = Conv1d(1, 1, 2, bias=False)
        >>> conv.weight.data = sg.ones(1, 1, 2)
        >>> conv(sg.tensor([[[1.0, 2.0, 3.0]]]))
        tensor([[[3., 5.]]], grad_fn=<recorded>)
        """
        name, d = type(self).__name__, self.dims
        if input.ndim not in (d + 1, d + 2) or input.shape[-d - 1] != self.in_channels:
            raise ShapeError(
                f"{name}({self.in_channels}, {self.out_channels}): expected input {self.layout} "
                f"with {self.in_channels} channels, got {shape_str(input.shape)}"
            )
        padding: Any = self.padding
        if self.padding_mode != "zeros":
            input = F.pad(input, self._pad_sizes(), mode=self.padding_mode)
            padding = 0
        conv = F.conv1d if d == 1 else F.conv2d
        return conv(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        """The settings that differ from the defaults, as PyTorch shows them in the repr.

        >>> Conv1d(1, 1, 2, bias=False).extra_repr()
        '1, 1, kernel_size=(2,), stride=(1,), bias=False'
        """
        d = self.dims
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * d:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * d:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` (or unbatched ``(C_in, L)``), giving
    ``(N, C_out, L_out)``; ``weight`` is ``(C_out, C_in // groups, kernel_size)``.

    ``padding`` may be ints, ``'valid'`` or ``'same'`` (not with ``stride > 1``:
    ``ValueError``); ``padding_mode`` is ``'zeros'``, ``'reflect'``, ``'replicate'``
    or ``'circular'``.  Channels not divisible by ``groups`` raise ``ValueError``.

    Example:
        >>> import symgrad as sg
        >>> Conv1d(4, 2, 3, stride=2, bias=False)(sg.randn(5, 4, 9)).shape
        (5, 2, 4)
    """

    dims = 1
    layout = "(N, C, L) or (C, L)"


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``), giving
    ``(N, C_out, H_out, W_out)``; ``weight`` is ``(C_out, C_in // groups, kH, kW)``.

    The arguments and their limits are :class:`Conv1d`'s, with an int or a pair for
    each size.

    Example:
        >>> import symgrad as sg
        >>> Conv2d(4, 4, (3, 1), groups=2, dilation=2)(sg.randn(1, 4, 7, 3)).shape
        (1, 4, 3, 3)
    """

    dims = 2
    layout = "(N, C, H, W) or (C, H, W)"


__all__ = ["Conv1d", "Conv2d"]
