"""``sg.formulas(fn, *example_args)``: derivative formulas for people, as text, LaTeX or SymPy.

The formula for an argument is the vector-Jacobian product with an all-ones
upstream gradient: for an elementwise function the ordinary derivative, for a
scalar (summed) function its gradient.  It is read off the same gradient graph
the kernels are built from, one term per node, shared work named once.

Example:
    >>> import symgrad as sg
    >>> from symgrad.formulas import formulas
    >>> f = formulas(lambda x, w: sg.tanh(w * x + 1))
    >>> f["w"]
    x*(1 - tanh(w*x + 1)**2)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.compiler import autodiff, passes
from symgrad.dtypes import is_floating
from symgrad.errors import GradError
from symgrad.formulas.build import derive
from symgrad.formulas.result import Formulas, Inputs
from symgrad.formulas.verify import Check, verify_formulas
from symgrad.frontend.apply import to_array
from symgrad.frontend.identity import IdentityDict
from symgrad.frontend.tensor import Tensor
from symgrad.frontend.trace import argument_names, trace


def formulas(fn: Callable, *example_args: Any, verify: bool = False) -> Formulas:
    """The derivative of ``fn`` with respect to each float argument, as formulas.

    With no example arguments, every argument is a float64 scalar.  With example
    arrays, matrices and vectors get matrix formulas (``x.T*(x*w - y)``).  The
    Parameters of Modules ``fn`` closes over get formulas too.  With ``verify=True``
    the formulas are evaluated at the example arguments and compared with the
    gradient kernels and with finite differences; a difference raises ``GradError``.

    >>> import symgrad as sg
    >>> from symgrad.formulas import formulas
    >>> print(formulas(lambda a, b: 3*a**3 - b**2))
    ∂f/∂a = 9*a**2
    ∂f/∂b = -2*b
    """
    if not callable(fn):
        raise GradError(f"formulas needs a function, got {type(fn).__name__}")
    count = len(example_args) or _positional_count(fn)
    names = argument_names(fn, count)
    arrays = [to_array(a) for a in example_args]
    specs = [(a.shape, a.dtype) for a in arrays] or [((), np.dtype(np.float64))] * count
    wants = [is_floating(dtype) for _, dtype in specs]
    traced = trace(fn, specs, names, requires_grad=wants)
    if traced.structure != "single":
        raise GradError("formulas needs a function that returns one tensor")
    forward = passes.prepare_forward(traced.graph)
    out = forward.outputs[0]
    if not is_floating(out.dtype):
        raise GradError(f"formulas needs a function with a float result, got {out.dtype}")
    upstream = ir.Var(out.shape, out.dtype)
    labels = dict(zip(forward.inputs, traced.input_names, strict=True))
    param_names = _parameter_names(fn)
    wrt = [v for v, w in zip(forward.inputs, wants, strict=False) if w]
    captured = []
    for var, source in zip(forward.inputs[len(specs) :], traced.captured, strict=True):
        tensor = source() if callable(source) and not isinstance(source, Tensor) else source
        captured.append(_reader(source))
        if tensor.requires_grad and is_floating(var.dtype):
            wrt.append(var)
            labels[var] = param_names.get(tensor, labels[var])
    grads = autodiff.vjp([out], [upstream], wrt)
    wrt_names = [labels[v] for v in wrt]
    derivation = derive(grads, labels, wrt_names, upstream, forward, wrt)
    inputs = Inputs(
        names=list(traced.input_names[: len(specs)]),
        shapes=[tuple(s) for s, _ in specs],
        dtypes=[np.dtype(d) for _, d in specs],
        captured_names=[labels[v] for v in forward.inputs[len(specs) :]],
        captured=captured,
        wrt_shapes={labels[v]: tuple(v.shape) for v in wrt},
    )
    fn_name = getattr(fn, "__name__", "f")
    result = Formulas("f" if fn_name == "<lambda>" else fn_name, derivation, inputs)
    result._check = Check(forward, upstream, grads, wrt)
    if verify:
        verify_formulas(result, arrays or [np.float64(0.5 + 0.25 * i) for i in range(count)])
    return result


def _reader(source: Any) -> Callable[[], np.ndarray]:
    """How to read a captured tensor's current value."""
    if callable(source) and not isinstance(source, Tensor):
        return lambda: np.asarray(source().numpy())
    return lambda: np.asarray(source.numpy())


def _parameter_names(fn: Callable) -> IdentityDict[Tensor, str]:
    """Names for the Parameters ``fn`` reaches through the Modules it closes over."""
    try:
        scope = inspect.getclosurevars(fn)
    except TypeError:
        return IdentityDict()
    names: IdentityDict[Tensor, str] = IdentityDict()
    for variable, value in {**scope.globals, **scope.nonlocals}.items():
        named = getattr(value, "named_parameters", None)
        if callable(named):
            for name, p in named():
                names.setdefault(p, f"{variable}.{name}")
        elif isinstance(value, Tensor) and value.requires_grad:
            names.setdefault(value, variable)
    return names


def _positional_count(fn: Callable) -> int:
    params = inspect.signature(fn).parameters.values()
    return sum(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in params
    )
