"""Normalization layers: ``LayerNorm``, ``BatchNorm1d``, ``BatchNorm2d``.

BatchNorm keeps ``running_mean``, ``running_var`` and ``num_batches_tracked`` as
buffers (in ``state_dict``, so a PyTorch checkpoint loads), updates them in
training mode (momentum, unbiased batch variance) and uses them in eval mode.
Inside a compiled step the updates are kernel state, written back after each call.

Example:
    >>> import symgrad as sg
    >>> bn = sg.nn.BatchNorm1d(3)
    >>> bn
    BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> _ = bn(sg.randn(8, 3))
    >>> bn.num_batches_tracked
    tensor(1)
    >>> sg.nn.LayerNorm(4)(sg.randn(2, 4)).shape
    (2, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgrad.dtypes import canonical, get_default_dtype, int64
from symgrad.errors import ShapeError, shape_str
from symgrad.frontend.tensor import Tensor
from symgrad.nn import functional as F
from symgrad.nn import init
from symgrad.nn._helpers import check_device
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


def _dtype(dtype: Any) -> np.dtype:
    return canonical(dtype) if dtype is not None else get_default_dtype()


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dims (mean 0, biased variance
    1, ``eps`` added to the variance), then ``* weight + bias`` (ones and zeros at
    first) when ``elementwise_affine`` (no bias with ``bias=False``).

    An input whose trailing dims are not ``normalized_shape`` raises ``ShapeError``;
    ``device`` may only be the CPU.

    Example:
        >>> import symgrad as sg
        >>> LayerNorm((2, 3), elementwise_affine=False)
        LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)
        >>> LayerNorm(2, eps=0.0)(sg.tensor([[1.0, 3.0]]))
        tensor([[-1.,  1.]], grad_fn=<recorded>)
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: object = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = _dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight back to ones, bias to zeros, in place.

        >>> ln = LayerNorm(2)
        >>> ln.weight.data = ln.weight.data * 3
        >>> ln.reset_parameters()
        >>> ln.weight.tolist()
        [1.0, 1.0]
        """
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """``F.layer_norm`` over the trailing dims; same shape as ``input``.

        >>> import symgrad as sg
        >>> LayerNorm(4)(sg.randn(2, 3, 4)).shape
        (2, 3, 4)
        """
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k :]) != self.normalized_shape:
            raise ShapeError(
                f"LayerNorm: input of shape {shape_str(input.shape)} must end with the "
                f"normalized shape {shape_str(self.normalized_shape)}"
            )
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """The settings, as shown inside the repr.

        >>> LayerNorm(4).extra_repr()
        '(4,), eps=1e-05, elementwise_affine=True, bias=True'
        """
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class _BatchNorm(Module):
    """What BatchNorm1d/2d share; subclasses say which input ranks they take."""

    ranks: tuple[int, ...] = ()
    layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: object = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_device(device)
        dtype = _dtype(dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches counted (in place; nothing
        without ``track_running_stats``).

        >>> import symgrad as sg
        >>> bn = BatchNorm1d(2)
        >>> _ = bn(sg.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> bn.reset_running_stats()
        >>> bn.running_mean, bn.num_batches_tracked
        (tensor([0., 0.]), tensor(0))
        """
        if self.track_running_stats:
            for name, value in (("running_mean", 0), ("running_var", 1)):
                init.constant_(getattr(self, name), value)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """Reset the running statistics, the weight to ones and the bias to zeros.

        >>> bn = BatchNorm1d(2)
        >>> bn.reset_parameters()
        >>> bn.weight.tolist(), bn.bias.tolist()
        ([1.0, 1.0], [0.0, 0.0])
        """
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.ndim not in self.ranks:
            ranks = " or ".join(f"{r}D" for r in self.ranks)
            raise ShapeError(
                f"{name}: expected {ranks} input {self.layout}, got {shape_str(input.shape)}"
            )
        if input.shape[1] != self.num_features:
            raise ShapeError(
                f"{name}({self.num_features}): input of shape {shape_str(input.shape)} has "
                f"{input.shape[1]} channels in dim 1, expected {self.num_features}"
            )

    def forward(self, input: Tensor) -> Tensor:
        """Normalize each channel (dim 1): with batch statistics in training mode (and
        update the running ones: ``momentum``, or a cumulative average with
        ``momentum=None``, unbiased batch variance), with the running ones in eval mode.
        A wrong rank or channel count raises ``ShapeError``.

        >>> import symgrad as sg
        >>> bn = BatchNorm1d(1, momentum=None)
        >>> bn(sg.tensor([[1.0], [3.0]])).shape, bn.running_mean, bn.running_var
        ((2, 1), tensor([2.]), tensor([2.]))
        """
        self._check_input(input)
        factor: float | Tensor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative average: a tensor, so compiled steps see it
                factor = 1.0 / self.num_batches_tracked
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        """The settings, as shown inside the repr.

        >>> BatchNorm2d(8, affine=False).extra_repr()
        '8, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=True'
        """
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs over every dim but ``C``.

    Example:
        >>> import symgrad as sg
        >>> bn = BatchNorm1d(2, eps=0.0, affine=False).eval()  # running stats: mean 0, var 1
        >>> bn(sg.tensor([[1.0, 2.0]]))
        tensor([[1., 2.]])
    """

    ranks = (2, 3)
    layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` inputs over every dim but ``C``.

    Example:
        >>> import symgrad as sg
        >>> BatchNorm2d(4)(sg.randn(2, 4, 3, 3)).shape
        (2, 4, 3, 3)
    """

    ranks = (4,)
    layout = "(N, C, H, W)"


__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]
