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

from symgrad import errors, functional, nn, optim
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
from symgrad.functional import log_softmax, softmax
from symgrad.functions import (
    abs,
    amax,
    amin,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    concat,
    concatenate,
    cos,
    exp,
    expm1,
    flatten,
    log,
    log1p,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    permute,
    reciprocal,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    take_along_dim,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from symgrad.nn.serialization import load, save
from symgrad.state import enable_grad, is_grad_enabled, no_grad
from symgrad.tensor import Tensor
from symgrad.version import __version__

__all__ = [
    "CompiledFunction",
    "Formulas",
    "Tensor",
    "__version__",
    "abs",
    "amax",
    "amin",
    "arange",
    "argmax",
    "argmin",
    "bool_",
    "broadcast_to",
    "cat",
    "clamp",
    "clip",
    "compile",
    "concat",
    "concatenate",
    "cos",
    "enable_grad",
    "errors",
    "exp",
    "expm1",
    "flatten",
    "float32",
    "float64",
    "formulas",
    "full",
    "functional",
    "grad",
    "int64",
    "is_grad_enabled",
    "load",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "permute",
    "rand",
    "randn",
    "reciprocal",
    "relu",
    "reshape",
    "save",
    "sigmoid",
    "sign",
    "sin",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sum",
    "take_along_dim",
    "tanh",
    "tensor",
    "transpose",
    "unsqueeze",
    "value_and_grad",
    "var",
    "where",
    "zeros",
    "zeros_like",
]
