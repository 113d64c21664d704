"""Derivative formulas for people: ``∂f/∂a = 9*a**2``, as text, LaTeX or SymPy.

The formula for an argument is the vector-Jacobian product with an all-ones
upstream gradient, written per element: for an elementwise function that is
the ordinary derivative, for a scalar (summed) function its gradient.  It is
read off the same gradient graph the kernels are built from, with each
node's expression put back in place of its name.

Example:
    >>> import symgrad as sg
    >>> f = sg.formulas(lambda x, w: sg.tanh(w * x + 1))
    >>> f["w"]
    x*(1 - tanh(w*x + 1)**2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import sympy

from symgrad import ir
from symgrad.compiler import autodiff, passes
from symgrad.dtypes import is_floating
from symgrad.errors import GradError
from symgrad.frontend.apply import to_array
from symgrad.frontend.identity import IdentityDict
from symgrad.frontend.tensor import Tensor
from symgrad.frontend.trace import argument_names, trace


class Formulas(Mapping[str, sympy.Expr]):
    """Argument name → SymPy derivative; ``str()`` gives ``∂f/∂a = ...`` lines."""

    def __init__(self, name: str, derivatives: dict[str, sympy.Expr]):
        self.name = name
        self._derivatives = derivatives

    def __getitem__(self, key: str) -> sympy.Expr:
        return self._derivatives[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._derivatives)

    def __len__(self) -> int:
        return len(self._derivatives)

    def __str__(self) -> str:
        return "\n".join(f"∂{self.name}/∂{arg} = {expr}" for arg, expr in self.items())

    def __repr__(self) -> str:
        return f"Formulas({self.name!r}, {self._derivatives!r})"

    def latex(self) -> str:
        """The formulas as one LaTeX ``aligned`` block."""
        rows = []
        for arg, expr in self.items():
            wrt = sympy.latex(sympy.Symbol(arg))
            rows.append(rf"\frac{{\partial {self.name}}}{{\partial {wrt}}} &= {sympy.latex(expr)}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"


def formulas(fn: Callable, *example_args) -> Formulas:
    """The derivative of ``fn`` with respect to each float argument, as formulas.

    With no example arguments, every argument is a float64 scalar.

    >>> import symgrad as sg
    >>> print(sg.formulas(lambda a, b: 3*a**3 - b**2))
    ∂f/∂a = 9*a**2
    ∂f/∂b = -2*b
    """
    count = len(example_args) or _positional_count(fn)
    names = argument_names(fn, count)
    if example_args:
        specs = [(a.shape, a.dtype) for a in map(to_array, example_args)]
    else:
        specs = [((), np.dtype(np.float64))] * count
    wants = [is_floating(dtype) for _, dtype in specs]
    traced = trace(fn, specs, names, requires_grad=wants)
    if traced.structure != "single":
        raise GradError("formulas needs a function that returns one tensor")
    forward = passes.prepare_forward(traced.graph)
    out = forward.outputs[0]
    upstream = ir.Var(out.shape, out.dtype)
    labels = dict(zip(forward.inputs, traced.input_names, strict=True))
    param_names = _parameter_names(fn)
    wrt = [v for v, w in zip(forward.inputs, wants, strict=False) if w]
    for var, source in zip(forward.inputs[len(specs) :], traced.captured, strict=True):
        tensor = source() if callable(source) and not isinstance(source, Tensor) else source
        if tensor.requires_grad and is_floating(var.dtype):
            wrt.append(var)
            labels[var] = param_names.get(tensor, labels[var])
    grads = autodiff.vjp([out], [upstream], wrt)
    symbols = {v: sympy.Symbol(labels[v], real=True) for v in forward.inputs}
    symbols[upstream] = sympy.Integer(1)
    derivatives = {}
    for var, g in zip(wrt, grads, strict=True):
        derivatives[labels[var]] = sympy.Integer(0) if g is None else _inline(g, symbols)
    fn_name = getattr(fn, "__name__", "f")
    return Formulas("f" if fn_name == "<lambda>" else fn_name, derivatives)


def _parameter_names(fn: Callable) -> IdentityDict[Tensor, str]:
    """Names for the Parameters ``fn`` reaches through the Modules it closes over."""
    import inspect

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
    import inspect

    params = inspect.signature(fn).parameters.values()
    return sum(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in params
    )


def _inline(var: ir.Var, known: dict[ir.Var, sympy.Expr]) -> sympy.Expr:
    """``var`` as one expression over the argument and parameter symbols (per element);
    each node is shown by its primitive (``matmul(x, W)``, ``transpose(W)``, ...)."""
    nodes, _ = ir.toposort([var], stop=[])
    for node in nodes:
        if node.output not in known:
            args = [known[v] for v in node.inputs]
            known[node.output] = node.primitive.display(node, args)
    return sympy.factor_terms(known[var])
