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
from symgrad.formulas import composites
from symgrad.formulas.build import Derivation, derive
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
    # The formulas are read from a copy with softmax and log-softmax as named nodes;
    # ``verify`` compares them with the kernels of the graph as traced.
    shown = passes.prepare_forward(composites.recognize(traced.graph.clone()))
    forward = passes.prepare_forward(traced.graph)
    out = forward.outputs[0]
    if not is_floating(out.dtype):
        raise GradError(f"formulas needs a function with a float result, got {out.dtype}")
    upstream = ir.Var(out.shape, out.dtype)
    labels = dict(zip(forward.inputs, traced.input_names, strict=True))
    scope_names = _scope_names(fn, taken=set(names))
    wrt = [v for v, w in zip(forward.inputs, wants, strict=False) if w]
    captured = []
    for var, source in zip(forward.inputs[len(specs) :], traced.captured, strict=True):
        tensor = source() if callable(source) and not isinstance(source, Tensor) else source
        captured.append(_reader(source))
        labels[var] = scope_names.get(tensor) or _constant_name(tensor) or labels[var]
        if tensor.requires_grad and is_floating(var.dtype):
            wrt.append(var)
    grads = autodiff.vjp([out], [upstream], wrt)
    wrt_names = [labels[v] for v in wrt]
    derivation = _derivation(shown, forward, labels, wrt, wrt_names)
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


def _derivation(
    shown: ir.Graph,
    forward: ir.Graph,
    labels: dict[ir.Var, str],
    wrt: list[ir.Var],
    wrt_names: list[str],
) -> Derivation:
    """The formulas read from ``shown``, whose inputs stand where ``forward``'s do."""
    position = {v: i for i, v in enumerate(forward.inputs)}
    as_shown = {v: shown.inputs[i] for v, i in position.items()}
    out = shown.outputs[0]
    upstream = ir.Var(out.shape, out.dtype)
    shown_wrt = [as_shown[v] for v in wrt]
    grads = autodiff.vjp([out], [upstream], shown_wrt)
    shown_labels = {as_shown[v]: name for v, name in labels.items()}
    return derive(grads, shown_labels, wrt_names, upstream, shown, shown_wrt)


def _constant_name(tensor: Tensor) -> str | None:
    """``arange(n)`` for a constant counting 0..n-1 along one dim (the row positions an
    index op reads), so that formulas show what it is."""
    if tensor.requires_grad or tensor.dtype.kind not in "iu" or tensor.numel() < 2:
        return None
    values = np.asarray(tensor.numpy())
    if sum(n != 1 for n in values.shape) != 1:
        return None
    flat = values.ravel()
    return f"arange({flat.size})" if np.array_equal(flat, np.arange(flat.size)) else None


def _reader(source: Any) -> Callable[[], np.ndarray]:
    """How to read a captured tensor's current value."""
    if callable(source) and not isinstance(source, Tensor):
        return lambda: np.asarray(source().numpy())
    return lambda: np.asarray(source.numpy())


def _scope_names(fn: Callable, taken: set[str]) -> IdentityDict[Tensor, str]:
    """Names for the tensors ``fn`` closes over: its global and free variables (``x``),
    and the Parameters and buffers of the Modules among them (``model.0.weight``).
    A variable named like one of ``fn``'s arguments (``taken``) is not used."""
    try:
        scope = inspect.getclosurevars(fn)
    except TypeError:
        return IdentityDict()
    names: IdentityDict[Tensor, str] = IdentityDict()
    for variable, value in {**scope.globals, **scope.nonlocals}.items():
        if variable in taken:
            continue
        if isinstance(value, Tensor):
            names.setdefault(value, variable)
            continue
        for method in ("named_parameters", "named_buffers"):
            named = getattr(value, method, None)
            if callable(named):
                for name, tensor in named():
                    names.setdefault(tensor, f"{variable}.{name}")
    return names


def _positional_count(fn: Callable) -> int:
    params = inspect.signature(fn).parameters.values()
    return sum(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in params
    )
