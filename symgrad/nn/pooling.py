"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``.

Example:
    >>> import symgrad as sg
    >>> pool = sg.nn.MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(sg.randn(1, 3, 8, 8)).shape, sg.nn.AdaptiveAvgPool2d(1)(sg.randn(2, 3, 4, 4)).shape
    ((1, 3, 4, 4), (2, 3, 1, 1))
"""

from __future__ import annotations

from typing import Any

from symgrad.frontend.conv import IntOrTuple
from symgrad.frontend.tensor import Tensor
from symgrad.nn import functional as F
from symgrad.nn.module import Module


class _MaxPoolNd(Module):
    def __init__(
        self,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        dilation: IntOrTuple = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        """The settings, as shown inside the repr.

        >>> MaxPool1d(2).extra_repr()
        'kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False'
        """
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """The largest value of each window of ``(N, C, L)``; ``stride`` defaults to the kernel.

    A window's gradient goes to its first maximum, as in PyTorch; with
    ``return_indices=True`` the layer returns ``(values, indices)``.

    >>> import symgrad as sg
    >>> MaxPool1d(2)(sg.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    tensor([[[3., 2.]]])
    >>> MaxPool1d(2, return_indices=True)(sg.tensor([[[1.0, 3.0, 2.0, 2.0]]]))[1]
    tensor([[[1, 2]]])
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """``F.max_pool1d`` with the layer's settings.

        >>> import symgrad as sg
        >>> MaxPool1d(2, stride=1)(sg.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        tensor([[[3., 3., 2.]]])
        """
        return F.max_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool2d(_MaxPoolNd):
    """The largest value of each window of ``(N, C, H, W)``; padding counts as ``-inf``.

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are ints or pairs.  With
    ``return_indices=True`` the layer returns ``(values, indices)``, as PyTorch's.

    >>> import symgrad as sg
    >>> MaxPool2d(3, stride=2, padding=1)(sg.randn(1, 2, 7, 7)).shape
    (1, 2, 4, 4)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """``F.max_pool2d`` with the layer's settings.

        >>> import symgrad as sg
        >>> MaxPool2d(2)(sg.arange(16.0).reshape(1, 1, 4, 4))
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
        """
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class _AvgPoolNd(Module):
    def __init__(
        self,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        """The window settings, as shown inside the repr.

        >>> AvgPool1d(3, stride=1).extra_repr()
        'kernel_size=3, stride=1, padding=0'
        """
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """The mean of each window of ``(N, C, L)``.

    >>> import symgrad as sg
    >>> AvgPool1d(2)(sg.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    tensor([[[2., 1.]]])
    """

    def forward(self, input: Tensor) -> Tensor:
        """``F.avg_pool1d`` with the layer's settings.

        >>> import symgrad as sg
        >>> AvgPool1d(2, padding=1)(sg.tensor([[[2.0, 4.0]]]))
        tensor([[[1., 2.]]])
        """
        return F.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )


class AvgPool2d(_AvgPoolNd):
    """The mean of each window of ``(N, C, H, W)``, with PyTorch's divisors at borders.

    >>> import symgrad as sg
    >>> AvgPool2d(2, divisor_override=1)(sg.ones(1, 1, 2, 2))
    tensor([[[[4.]]]])
    """

    def __init__(
        self,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        """``F.avg_pool2d`` with the layer's settings.

        >>> import symgrad as sg
        >>> AvgPool2d(2)(sg.arange(16.0).reshape(1, 1, 4, 4))
        tensor([[[[ 2.5,  4.5],
                  [10.5, 12.5]]]])
        """
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        """The ``output_size``, as shown inside the repr.

        >>> AdaptiveAvgPool2d((2, 3))
        AdaptiveAvgPool2d(output_size=(2, 3))
        """
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average ``(N, C, L)`` down to ``output_size`` positions (PyTorch's windows).

    >>> import symgrad as sg
    >>> AdaptiveAvgPool1d(2)(sg.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    tensor([[[2., 1.]]])
    """

    def forward(self, input: Tensor) -> Tensor:
        """``F.adaptive_avg_pool1d(input, output_size)``.

        >>> import symgrad as sg
        >>> AdaptiveAvgPool1d(1)(sg.tensor([[[1.0, 2.0, 6.0]]]))
        tensor([[[3.]]])
        """
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average ``(N, C, H, W)`` down to ``output_size`` (an int or a pair; ``None`` keeps
    that input size).

    >>> import symgrad as sg
    >>> AdaptiveAvgPool2d((2, None))(sg.randn(1, 3, 5, 7)).shape
    (1, 3, 2, 7)
    """

    def forward(self, input: Tensor) -> Tensor:
        """``F.adaptive_avg_pool2d(input, output_size)``.

        >>> import symgrad as sg
        >>> AdaptiveAvgPool2d(1)(sg.arange(4.0).reshape(1, 1, 2, 2))
        tensor([[[[1.5]]]])
        """
        return F.adaptive_avg_pool2d(input, self.output_size)


__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "MaxPool1d",
    "MaxPool2d",
]
