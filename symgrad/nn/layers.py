"""Layers: ``Linear``, ``Sequential``, activations, ``Flatten``, ``Identity``, ``Dropout``.

Example:
    >>> import symgrad as sg
    >>> sg.manual_seed(0)
    >>> model = sg.nn.Sequential(sg.nn.Linear(4, 8), sg.nn.Tanh(), sg.nn.Linear(8, 2))
    >>> model(sg.randn(5, 4)).shape
    (5, 2)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, overload

import numpy as np

from symgrad.dtypes import canonical, get_default_dtype
from symgrad.frontend import creation, functional
from symgrad.frontend.tensor import Tensor
from symgrad.nn import init
from symgrad.nn._helpers import check_device
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter
from symgrad.recording import RECORDING


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored).

    >>> Identity(54, unused="x")(creation.tensor([1.0]))
    tensor([1.])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` of shape ``(out_features, in_features)``.

    Initialised as PyTorch does: ``kaiming_uniform_(weight, a=sqrt(5))``, i.e. weight
    and bias uniform in ``(-1/sqrt(in_features), 1/sqrt(in_features))``, drawn from the
    generator :func:`symgrad.manual_seed` seeds.  Default dtype: ``sg.get_default_dtype()``.

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
        """Draw fresh weights (and bias) with PyTorch's default rule."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        out = input @ self.weight.T
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Sequential(Module):
    """Modules applied in order; built from positional modules or an ``OrderedDict``.

    >>> import symgrad as sg
    >>> from collections import OrderedDict
    >>> model = Sequential(OrderedDict([("fc", Linear(2, 3)), ("act", ReLU())]))
    >>> model.fc, len(model), model[-1]
    (Linear(in_features=2, out_features=3, bias=True), 2, ReLU())
    >>> model.append(Linear(3, 1))[2].out_features
    1
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def _index(self, idx: int) -> int:
        size = len(self)
        idx = int(idx.__index__())
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return idx % size

    @overload
    def __getitem__(self, idx: slice) -> Sequential: ...

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[self._index(idx)]
        setattr(self, key, module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]:
            delattr(self, key)
        # keep the numbering contiguous, as PyTorch does
        self._modules = {str(i): m for i, m in enumerate(self._modules.values())}

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append each of ``modules``; returns ``self``."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index``; returns ``self``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index + n if index < 0 else index
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules = {str(i): m for i, m in enumerate(items)}
        return self

    def pop(self, key: int | slice) -> Module:
        """Remove and return the module at ``key``."""
        value = self[key]
        del self[key]
        return value

    def forward(self, input: Any) -> Any:
        for module in self:
            input = module(input)
        return input


class ReLU(Module):
    """``max(x, 0)`` (``inplace`` is accepted for compatibility; the result is a new tensor).

    >>> ReLU()(creation.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return functional.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Hyperbolic tangent.

    >>> Tanh()(creation.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``.

    >>> Sigmoid()(creation.tensor([0.0]))
    tensor([0.5])
    """

    def forward(self, input: Tensor) -> Tensor:
        return functional.sigmoid(input)


class GELU(Module):
    """Gaussian error linear unit, exact or ``approximate='tanh'``.

    >>> GELU()
    GELU(approximate='none')
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return functional.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)``.

    >>> SiLU()(creation.tensor([0.0]))
    tensor([0.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return functional.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` for ``x > 0``, else ``negative_slope * x``.

    >>> LeakyReLU(0.1)(creation.tensor([-1.0, 2.0]))
    tensor([-0.1,  2. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return functional.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's legacy choice of dim when it is ``None``).

    >>> Softmax(dim=0)(creation.tensor([0.0, 0.0]))
    tensor([0.5, 0.5])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return functional.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax along ``dim``.

    >>> LogSoftmax(dim=1)
    LogSoftmax(dim=1)
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return functional.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` (by default all but the batch dim).

    >>> Flatten()(creation.zeros(2, 3, 4)).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by
    ``1/(1-p)``; in ``eval()`` mode (or with ``p=0``) the input passes through.

    The mask is drawn from the generator :func:`symgrad.manual_seed` seeds.  Inside
    :func:`symgrad.compile` the mask is an input of the kernel that is drawn afresh
    before every call, so each compiled step sees a new mask.

    >>> import symgrad as sg
    >>> drop = Dropout(p=0.5)
    >>> drop.eval()(sg.ones(3))
    tensor([1., 1., 1.])
    >>> sorted(set(drop.train()(sg.ones(1000)).tolist()))
    [0.0, 2.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def _draw(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        keep = creation.generator().random(shape) >= self.p
        scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
        return np.where(keep, scale, 0.0).astype(dtype)

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return input
        trace = RECORDING.trace
        if trace is None:
            return input * Tensor(self._draw(input.shape, input.dtype))
        # Compiled: the mask is a kernel input drawn afresh before every call (so a
        # compiled step draws the same masks as the eager loop from the same seed).
        mask = Tensor(np.zeros(input.shape, input.dtype))
        trace.before_call.append(
            lambda: np.copyto(mask.numpy(), self._draw(mask.shape, mask.dtype))
        )
        return input * mask

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


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
