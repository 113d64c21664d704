"""Activation layers: ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid``, ``GELU``, ``SiLU``,
``Softmax`` and ``LogSoftmax``, as in ``torch.nn``.

Each one calls the function of the same name in :mod:`symgrad.nn.functional`, so it
works on tensors of any shape, records a gradient and compiles like any other op.
``inplace=True`` is accepted (and shown in the repr) for compatibility, but the result
is always a new tensor: the input is never changed.

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([-2.0, 0.0, 3.0])
    >>> sg.nn.ReLU()(x), sg.nn.LeakyReLU(0.5)(x)
    (tensor([0., 0., 3.]), tensor([-1.,  0.,  3.]))
"""

from __future__ import annotations

from symgrad.frontend import functional
from symgrad.frontend.tensor import Tensor
from symgrad.nn.module import Module


def _inplace(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class ReLU(Module):
    """``max(x, 0)`` elementwise; the gradient at ``0`` is ``0``, as in PyTorch.

    ``inplace`` is accepted for compatibility; the result is a new tensor.

    Example:
        >>> import symgrad as sg
        >>> ReLU()(sg.tensor([-1.0, 2.0]))
        tensor([0., 2.])
        >>> ReLU(inplace=True)
        ReLU(inplace=True)
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """``F.relu(input)``: a new tensor of the same shape.

        >>> import symgrad as sg
        >>> x = sg.tensor([-1.0, 1.0])
        >>> ReLU(inplace=True)(x), x
        (tensor([0., 1.]), tensor([-1.,  1.]))
        """
        return functional.relu(input)

    def extra_repr(self) -> str:
        """``'inplace=True'`` when set, else ``''``.

        >>> ReLU().extra_repr(), ReLU(True).extra_repr()
        ('', 'inplace=True')
        """
        return _inplace(self.inplace)


class Tanh(Module):
    """Hyperbolic tangent elementwise; no parameters.

    Example:
        >>> import symgrad as sg
        >>> Tanh()(sg.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        """``F.tanh(input)``, values in ``(-1, 1)``.

        >>> import symgrad as sg
        >>> Tanh()(sg.tensor([-100.0, 100.0]))
        tensor([-1.,  1.])
        """
        return functional.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise; no parameters.

    Example:
        >>> import symgrad as sg
        >>> Sigmoid()(sg.tensor([0.0]))
        tensor([0.5])
    """

    def forward(self, input: Tensor) -> Tensor:
        """``F.sigmoid(input)``, values in ``(0, 1)``.

        >>> import symgrad as sg
        >>> Sigmoid()(sg.zeros(2, 1))
        tensor([[0.5],
                [0.5]])
        """
        return functional.sigmoid(input)


class GELU(Module):
    """Gaussian error linear unit ``x * Phi(x)``: exact (``approximate='none'``) or the
    tanh approximation (``approximate='tanh'``).  Any other ``approximate`` raises
    ``ValueError`` when the layer is called.

    Example:
        >>> import symgrad as sg
        >>> GELU()
        GELU(approximate='none')
        >>> GELU()(sg.tensor([0.0, 1.0]))
        tensor([0.        , 0.84134475])
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """``F.gelu(input, approximate=self.approximate)``.

        >>> import symgrad as sg
        >>> GELU(approximate="tanh")(sg.tensor([1.0]))
        tensor([0.84119199])
        """
        return functional.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        """The ``approximate`` setting, as shown inside the repr.

        >>> GELU("tanh").extra_repr()
        "approximate='tanh'"
        """
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` elementwise (also called swish).

    ``inplace`` is accepted for compatibility; the result is a new tensor.

    Example:
        >>> import symgrad as sg
        >>> SiLU()(sg.tensor([0.0]))
        tensor([0.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """``F.silu(input)``.

        >>> import symgrad as sg
        >>> SiLU()(sg.tensor([-1.0, 1.0]))
        tensor([-0.26894142,  0.73105858])
        """
        return functional.silu(input)

    def extra_repr(self) -> str:
        """``'inplace=True'`` when set, else ``''``.

        >>> SiLU(inplace=True)
        SiLU(inplace=True)
        """
        return _inplace(self.inplace)


class LeakyReLU(Module):
    """``x`` for ``x > 0``, else ``negative_slope * x``, elementwise.

    ``inplace`` is accepted for compatibility; the result is a new tensor.

    Example:
        >>> import symgrad as sg
        >>> LeakyReLU(0.1)(sg.tensor([-1.0, 2.0]))
        tensor([-0.1,  2. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """``F.leaky_relu(input, self.negative_slope)``.

        >>> import symgrad as sg
        >>> LeakyReLU()(sg.tensor([-100.0]))
        tensor([-1.])
        """
        return functional.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        """The slope (and ``inplace=True`` when set), as shown inside the repr.

        >>> LeakyReLU(0.2, inplace=True).extra_repr()
        'negative_slope=0.2, inplace=True'
        """
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Softmax(Module):
    """Softmax along ``dim``: ``exp(x) / exp(x).sum(dim, keepdim=True)``, computed stably.

    With ``dim=None`` the dim is PyTorch's legacy choice: 0 for inputs of 0, 1 or 3
    dims, else 1 (PyTorch warns about it; symgrad does not).  Pass ``dim`` explicitly.

    Example:
        >>> import symgrad as sg
        >>> Softmax(dim=0)(sg.tensor([0.0, 0.0]))
        tensor([0.5, 0.5])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """``F.softmax(input, self.dim)``: each slice along ``dim`` sums to 1.

        >>> import symgrad as sg
        >>> Softmax(dim=-1)(sg.zeros(2, 4)).sum(-1)
        tensor([1., 1.])
        """
        return functional.softmax(input, self.dim)

    def extra_repr(self) -> str:
        """The ``dim``, as shown inside the repr.

        >>> Softmax(dim=1)
        Softmax(dim=1)
        """
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably (not as the log of a softmax).

    ``dim=None`` takes PyTorch's legacy choice of dim, as :class:`Softmax` does.

    Example:
        >>> import symgrad as sg
        >>> LogSoftmax(dim=1)
        LogSoftmax(dim=1)
        >>> LogSoftmax(dim=1)(sg.tensor([[0.0, 0.0]]))
        tensor([[-0.69314718, -0.69314718]])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """``F.log_softmax(input, self.dim)``.

        >>> import symgrad as sg
        >>> LogSoftmax(dim=0)(sg.tensor([1000.0, 1000.0]))
        tensor([-0.69314718, -0.69314718])
        """
        return functional.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        """The ``dim``, as shown inside the repr.

        >>> LogSoftmax(dim=-1).extra_repr()
        'dim=-1'
        """
        return f"dim={self.dim}"


__all__ = ["GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax", "Tanh"]
