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

The package is laid out in pipeline order (see ``docs/architecture.md``):
``ir`` → ``compiler`` → ``frontend`` → ``runtime`` → ``formulas`` → ``nn``/``optim``.
This module only gathers the public names; each is listed once, and ``__all__`` is
made from them.  The module-level math (``sg.exp``, ``sg.where``, ``sg.sum``, ...) is
``symgrad.frontend.math``'s ``__all__``; its elementwise functions come from the op table.
"""

from symgrad import errors, functional, nn, optim, testing, utils
from symgrad.dtypes import (
    bool_,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from symgrad.formulas import Formulas, formulas
from symgrad.frontend.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from symgrad.frontend.device import cuda, device
from symgrad.frontend.functional import log_softmax, softmax
from symgrad.frontend.math import *  # sg.exp, sg.sum, sg.cat, ...: see its __all__
from symgrad.frontend.random import (
    Generator,
    default_generator,
    initial_seed,
    manual_seed,
    multinomial,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
)
from symgrad.frontend.tensor import Tensor
from symgrad.nn.serialization import load, save
from symgrad.recording import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from symgrad.runtime import autograd
from symgrad.runtime.compiled import CompiledFunction, compile, grad, value_and_grad
from symgrad.runtime.transforms import hessian, hvp, jacobian, jvp
from symgrad.version import __version__

# PyTorch's dtype aliases (sg.float is float32, as torch.float); kept out of __all__, so
# ``from symgrad import *`` leaves Python's float, int and bool alone.
float, double, long, int, bool = float32, float64, int64, int32, bool_
_BUILTIN_NAMES = {"float", "double", "long", "int", "bool"}

# The pipeline's own packages and modules are reachable but not part of the public API.
_STAGES = {"compiler", "dtypes", "frontend", "ir", "recording", "runtime", "version"}
__all__ = sorted(
    name
    for name in globals()
    if (not name.startswith("_") or name == "__version__")
    and name not in _STAGES
    and name not in _BUILTIN_NAMES
)
