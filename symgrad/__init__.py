"""symgrad: readable symbolic derivatives and fused Numba gradient kernels for PyTorch-style code.

Example:
    >>> import symgrad as sg
    >>> a = sg.tensor([2., 3.], requires_grad=True)
    >>> b = sg.tensor([6., 4.], requires_grad=True)
    >>> Q = 3*a**3 - b**2
    >>> Q.backward(gradient=sg.tensor([1., 1.]))
    >>> a.grad
    tensor([36., 81.])
    >>> print(sg.formulas(lambda a, b: 3*a**3 - b**2))
    ∂f/∂a = 9*a**2
    ∂f/∂b = -2*b
"""

from symgrad import errors
from symgrad.compile import CompiledFunction, compile, grad, value_and_grad
from symgrad.creation import (
    arange,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from symgrad.dtypes import bool_, float32, float64, int64
from symgrad.formulas import Formulas, formulas
from symgrad.functions import (
    abs,
    cos,
    exp,
    log,
    maximum,
    mean,
    minimum,
    relu,
    sigmoid,
    sin,
    sqrt,
    sum,
    tanh,
    where,
)
from symgrad.state import enable_grad, is_grad_enabled, no_grad
from symgrad.tensor import Tensor
from symgrad.version import __version__

__all__ = [
    "CompiledFunction",
    "Formulas",
    "Tensor",
    "__version__",
    "abs",
    "arange",
    "bool_",
    "compile",
    "cos",
    "enable_grad",
    "errors",
    "exp",
    "float32",
    "float64",
    "formulas",
    "full",
    "grad",
    "int64",
    "is_grad_enabled",
    "log",
    "manual_seed",
    "maximum",
    "mean",
    "minimum",
    "no_grad",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "relu",
    "sigmoid",
    "sin",
    "sqrt",
    "sum",
    "tanh",
    "tensor",
    "value_and_grad",
    "where",
    "zeros",
    "zeros_like",
]
