"""The :class:`Formulas` object: argument name → SymPy derivative, with its named
intermediates, its notes on kinks, and ways to print and evaluate it.

Example:
    >>> import symgrad as sg
    >>> from symgrad.formulas import formulas
    >>> f = formulas(lambda x: sg.relu(x) + abs(x))
    >>> print(f)
    ∂f/∂x = [x > 0] + sign(x)
    at kinks:
      relu(x) at x = 0: derivative 0 (relu'(0) = 0)
      |x| at x = 0: derivative 0 (|x|'(0) = 0)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad.errors import ShapeError
from symgrad.formulas.build import Derivation, used_definitions
from symgrad.formulas.evaluate import Evaluator, matrix_value
from symgrad.formulas.printing import to_latex, to_pretty, to_text
from symgrad.formulas.terms import leaf, replace


@dataclass
class Inputs:
    """What the formulas are written over: the arguments (names, shapes, dtypes) and the
    tensors the function reads besides them (names, and how to get their values)."""

    names: list[str]
    shapes: list[tuple]
    dtypes: list[np.dtype]
    captured_names: list[str]
    captured: list[Callable[[], np.ndarray]]
    wrt_shapes: dict[str, tuple]


class Formulas(Mapping[str, sympy.Basic]):
    """Argument name → SymPy derivative; ``str()`` gives ``∂f/∂a = ...`` lines.

    For a function with a non-scalar result the formula is the gradient of the sum of
    its entries (the derivative entry by entry, for elementwise functions).  Shared
    work is named once (``definitions``, printed after ``where``); ``notes`` says
    which derivative is taken where the function has a kink.
    """

    def __init__(self, name: str, derivation: Derivation, inputs: Inputs | None = None):
        self.name = name
        self._derivatives = derivation.derivatives
        self.definitions: list[tuple[sympy.Basic, sympy.Basic]] = derivation.definitions
        self.notes: list[str] = derivation.notes
        self._inputs = inputs
        self._check: Any = None  # set by ``formulas``: what ``verify`` compares with

    def __getitem__(self, key: str) -> sympy.Basic:
        return self._derivatives[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._derivatives)

    def __len__(self) -> int:
        return len(self._derivatives)

    def _lines(self, show: Callable[[sympy.Basic], str]) -> list[str]:
        lines = [f"∂{self.name}/∂{arg} = {show(expr)}" for arg, expr in self.items()]
        if self.definitions:
            lines.append("where")
            lines += [f"  {show(sym)} = {show(term)}" for sym, term in self.definitions]
        if self.notes:
            lines.append("at kinks:")
            lines += [f"  {note}" for note in self.notes]
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines(to_text))

    def __repr__(self) -> str:
        return f"Formulas({self.name!r}, {self._derivatives!r})"

    def pretty(self) -> str:
        """The formulas in 2-D text (as ``sympy.pprint``): one block per formula."""
        blocks = []
        for arg, expr in self.items():
            blocks.append(f"∂{self.name}/∂{arg} =\n{to_pretty(expr)}")
        for sym, term in self.definitions:
            blocks.append(f"{to_text(sym)} =\n{to_pretty(term)}")
        return "\n\n".join(blocks)

    def latex(self) -> str:
        """The formulas (and their named intermediates) as one LaTeX ``aligned`` block."""
        rows = []
        for arg, expr in self.items():
            wrt = sympy.latex(sympy.Symbol(arg))
            rows.append(rf"\frac{{\partial {self.name}}}{{\partial {wrt}}} &= {to_latex(expr)}")
        for sym, term in self.definitions:
            rows.append(rf"{to_latex(sym)} &= {to_latex(term)}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"

    def select(self, *names: str) -> Formulas:
        """Only the formulas for ``names`` (in that order), with the named intermediates
        they use; the notes on kinks stay (they are about the function).

        >>> import symgrad as sg
        >>> from symgrad.formulas import formulas
        >>> print(formulas(lambda a, b: sg.exp(a * b)).select("b"))
        ∂f/∂b = a*exp(a*b)
        """
        unknown = [n for n in names if n not in self._derivatives]
        if unknown:
            raise KeyError(f"no formula for {unknown[0]!r}; formulas are for {list(self)}")
        derivation = Derivation(
            {n: self._derivatives[n] for n in names}, list(self.definitions), list(self.notes)
        )
        derivation.definitions = used_definitions(derivation)
        chosen = Formulas(self.name, derivation, self._inputs)
        if self._check is not None:  # keep verify's gradients in step with the formulas
            order = [list(self).index(n) for n in names]
            check = self._check
            chosen._check = dataclasses.replace(
                check, grads=[check.grads[i] for i in order], wrt=[check.wrt[i] for i in order]
            )
        return chosen

    def inlined(self, key: str) -> sympy.Basic:
        """The formula for ``key`` with every named intermediate written out (may be long).

        >>> import symgrad as sg
        >>> from symgrad.formulas import formulas
        >>> f = formulas(lambda a, b: sg.exp(a * b - sg.sin(a)))
        >>> f["b"], f.inlined("b")
        (a*t1, a*exp(a*b - sin(a)))
        """
        expr = self[key]
        for sym, term in reversed(self.definitions):
            expr = replace(expr, {sym: term})
        return expr

    def evaluate(self, *args: Any) -> dict[str, np.ndarray]:
        """Each formula computed from its SymPy expression at ``args`` (float64 arrays).

        The tensors the function reads besides its arguments (Parameters, constants) are
        taken at their current values.  The arguments must have the shapes the formulas
        were derived for.

        >>> import numpy as np, symgrad as sg
        >>> from symgrad.formulas import formulas
        >>> f = formulas(lambda x, w: (x @ w).sum(), np.ones((2, 3)), np.ones((3, 1)))
        >>> f.evaluate(np.ones((2, 3)), np.arange(3.0).reshape(3, 1))["x"]
        array([[0., 1., 2.],
               [0., 1., 2.]])
        """
        inputs = self._inputs
        if inputs is None:
            raise ShapeError("these formulas were not derived from a function: nothing to evaluate")
        arrays = check_arguments(inputs, args)
        leaves = {leaf(n, a.shape): a for n, a in zip(inputs.names, arrays, strict=True)}
        for n, get in zip(inputs.captured_names, inputs.captured, strict=True):
            value = np.asarray(get())
            leaves[leaf(n, value.shape)] = (
                value.astype(np.float64) if value.dtype.kind == "f" else value
            )
        evaluator = Evaluator(leaves)
        for sym, term in self.definitions:
            evaluator.define(sym, term)
        return {
            name: matrix_value(expr, inputs.wrt_shapes[name], evaluator)
            for name, expr in self.items()
        }


def check_arguments(inputs: Inputs, args: Sequence[Any]) -> list[np.ndarray]:
    """``args`` as arrays, checked against the shapes the formulas were derived for."""
    if len(args) != len(inputs.names):
        raise ShapeError(
            f"the formulas take {len(inputs.names)} arguments "
            f"({', '.join(inputs.names)}), got {len(args)}"
        )
    arrays = []
    for name, shape, dtype, a in zip(inputs.names, inputs.shapes, inputs.dtypes, args, strict=True):
        array = np.asarray(a.numpy() if hasattr(a, "numpy") else a)
        if tuple(array.shape) != tuple(shape):
            raise ShapeError(
                f"argument {name!r} has shape {tuple(array.shape)}; the formulas were "
                f"derived for shape {tuple(shape)}"
            )
        arrays.append(array.astype(np.float64) if np.dtype(dtype).kind == "f" else array)
    return arrays
