"""The three primitives every other one builds on: elementwise, sum and reshape.

They live together because their gradients are written in each other:
broadcasting is an elementwise copy whose gradient is a sum; a sum's gradient
is a reshape and a broadcast.

Example:
    >>> import numpy as np
    >>> from symgrad.ir.graph import Var
    >>> x = Var((2, 3), np.dtype('float64'))
    >>> reduce_sum(x, (1,), keepdim=False).shape
    (2,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter, SciPyPrinter

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var, arg
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.shapes import (
    Shape,
    broadcast_shapes,
    is_unit_reshape,
    numel,
    reduced_shape,
    same_shape,
)
from symgrad.ir.sympy_functions import NUMPY_IMPLEMENTATIONS

# --- elementwise ---------------------------------------------------------------------


@dataclass(frozen=True)
class ElementwiseParams:
    """``stop_gradient``: no gradient flows through (``detach``, comparisons) until autodiff
    is done; ``cast``: the value is converted to the output dtype (``x.float()``)."""

    stop_gradient: bool = False
    cast: bool = False


PLAIN = ElementwiseParams()
STOP_GRADIENT = ElementwiseParams(stop_gradient=True)
CAST = ElementwiseParams(cast=True)


@lru_cache(maxsize=4096)
def local_partials(expr: sympy.Expr, n_inputs: int) -> tuple[sympy.Expr, ...]:
    """``∂expr/∂_i`` for each input, with the output placeholder ``_n`` put in for ``expr``.

    The output is ``arg(n_inputs)``; the upstream gradient will be ``arg(n_inputs + 1)``.
    """
    out = arg(n_inputs)
    partials = []
    for i in range(n_inputs):
        d = sympy.diff(expr, arg(i))
        if d != 0 and not (expr.is_Symbol or expr.is_Number):
            d = d.subs(expr, out)
        partials.append(d)
    return tuple(partials)


@lru_cache(maxsize=4096)
def numpy_function(expr: sympy.Expr, n_inputs: int) -> Callable[..., Any]:
    """``expr`` over placeholders as a function of ``n_inputs`` arrays (memoised per template).

    The printed code names ``numpy.`` (and ``scipy.special.`` only for the functions
    only SciPy has, such as ``erf``): lambdify's own ``modules=["scipy", "numpy"]`` runs
    ``from numpy import *`` and imports SciPy, 0.15-0.3 s on the first interpreted call.
    """
    symbols = [arg(i) for i in range(n_inputs)]
    namespace: dict[str, Any] = {"numpy": np, **NUMPY_IMPLEMENTATIONS}
    printer = NumPyPrinter
    if any(type(f).__name__ in _SCIPY_ONLY for f in expr.atoms(sympy.Function)):
        import scipy.special

        namespace["scipy"], printer = scipy, SciPyPrinter
    settings = {
        "fully_qualified_modules": True,
        "inline": True,
        "allow_unknown_functions": True,
        "user_functions": {name: name for name in NUMPY_IMPLEMENTATIONS},
    }
    return sympy.lambdify(symbols, expr, modules=[namespace], printer=printer(settings))


#: SymPy functions that SciPy's printer writes and NumPy's does not (``erf``, ``gamma``...).
_SCIPY_ONLY = frozenset(SciPyPrinter._kf) - frozenset(NumPyPrinter._kf)


class Elementwise(Primitive):
    """A SymPy scalar expression over the inputs (``node.expr``), applied with broadcasting.

    Its kernel code is the expression itself, fused into the loop over its shape;
    its gradient is ``g * ∂expr/∂input`` per input, from SymPy, written in terms of
    the node's output where it reappears (``d tanh(u) = 1 - t**2``).
    """

    name = "elementwise"
    schedule = Schedule.ELEMENTWISE
    fold_into_output: ClassVar[bool] = True

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        n = len(node.inputs)
        if node.params.stop_gradient:
            return [None] * n
        partials = local_partials(node.expr, n)
        operands = (*node.inputs, node.output, g)
        grads: list[Var | None] = []
        for inp, partial, want in zip(node.inputs, partials, wanted, strict=True):
            if not want or partial == 0:
                grads.append(None)
                continue
            contribution = make_elementwise(
                arg(n + 1) * partial, operands, node.output.shape, inp.dtype
            )
            grads.append(unbroadcast(contribution, inp.shape))
        return grads

    def interpret(self, node: Node, arrays: Sequence[np.ndarray]) -> np.ndarray:
        out = node.output
        value = numpy_function(node.expr, len(arrays))(*arrays)
        if type(value) is not np.ndarray or value.shape != out.shape:
            value = np.broadcast_to(value, out.shape)
        return value if value.dtype == out.dtype else value.astype(out.dtype)

    def display(self, node: Node, args: list[sympy.Expr]) -> sympy.Expr:
        return node.expr.xreplace({arg(i): a for i, a in enumerate(args)})

    def describe(self, node: Node, input_names: list[str]) -> str:
        text = str(node.formula(input_names))
        if node.inputs and node.output.shape != broadcast_shapes(
            "elementwise", *(v.shape for v in node.inputs)
        ):
            text += f"  (broadcast to {node.output.shape})"
        return text


ELEMENTWISE = register(Elementwise())


def elementwise(
    expr: sympy.Expr,
    inputs: Sequence[Var],
    shape: Shape | None = None,
    dtype: Any = None,
    params: ElementwiseParams = PLAIN,
) -> Var:
    """A new elementwise node; shape defaults to the broadcast of the inputs' shapes."""
    if shape is None:
        shape = broadcast_shapes("elementwise", *(v.shape for v in inputs)) if inputs else ()
    if dtype is None:
        dtype = np.result_type(*(v.dtype for v in inputs)) if inputs else np.dtype("float64")
    return Node(ELEMENTWISE, inputs, shape, dtype, params=params, expr=expr).output


def make_elementwise(expr: sympy.Expr, inputs: Sequence[Var], shape: Shape, dtype) -> Var:
    """An elementwise node over only the inputs ``expr`` uses, renumbered in order."""
    used = sorted(int(s.name[1:]) for s in expr.free_symbols if s.name.startswith("_"))
    kept: list[Var] = []
    mapping = {}
    for i in used:
        var = inputs[i]
        if var in kept:
            mapping[arg(i)] = arg(kept.index(var))
        else:
            mapping[arg(i)] = arg(len(kept))
            kept.append(var)
    return elementwise(expr.xreplace(mapping), kept, shape=shape, dtype=dtype)


def broadcast_to(x: Var, shape: Shape) -> Var:
    """``x`` broadcast to ``shape`` (an elementwise identity with a larger output)."""
    shape = tuple(shape)
    if same_shape(x.shape, shape):
        return x
    if not same_shape(broadcast_shapes("broadcast_to", x.shape, shape), shape):
        raise ShapeError(f"cannot broadcast {shape_str(x.shape)} to {shape_str(shape)}")
    return elementwise(arg(0), [x], shape=shape, dtype=x.dtype)


# --- reductions ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReduceParams:
    """Reduce over ``axes`` (sorted, non-negative); keep them as size 1 when ``keepdim``."""

    axes: tuple[int, ...]
    keepdim: bool


class Reduction(Primitive):
    """A reduction folded into the loop over its input: ``start`` is the register
    accumulator's first value, ``fill`` an in-memory accumulator's, ``fold`` one step."""

    schedule = Schedule.REDUCTION
    start: ClassVar[str] = ""
    fill: ClassVar[str] = ""

    def shape_rule(self, params: ReduceParams, x: Any) -> tuple[Shape, np.dtype]:
        return reduced_shape(x.shape, params.axes, params.keepdim), x.dtype

    def fold(self, target: str, value: str) -> str:
        """The kernel line with which ``target`` absorbs ``value``."""
        raise NotImplementedError(f"reduction {self.name!r} has no fold")

    def accumulator_depth(self, node: Node) -> int | None:
        """The loop depth k when the node reduces exactly loop dims k, k+1, ... (a register
        accumulator then serves each output element); None when it accumulates in memory."""
        axes = node.params.axes
        n = node.inputs[0].ndim
        if not axes:
            return None if n else 0
        k = min(axes)
        return k if set(axes) == set(range(k, n)) else None

    def fold_targets(self, node: Node, index: list[str]) -> list[tuple[Var, list[str]]]:
        """For loop ``index`` over the input's shape: each input folded in, and where in
        the output it lands."""
        return [(node.inputs[0], reduced_index(node, index))]


def reduced_index(node: Node, index: list[str]) -> list[str]:
    """Where loop ``index`` over a reduction's input lands in its output.

    >>> x = Var((2, 3), np.dtype("float64"))
    >>> reduced_index(reduce_sum(x, (1,), True).producer, ["i0", "i1"])
    ['i0', '0']
    """
    axes, keepdim = node.params.axes, node.params.keepdim
    kept = [("0" if keepdim else None) if d in axes else ix for d, ix in enumerate(index)]
    return [k for k in kept if k is not None]


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """Sums of ints and bools are int64, as in PyTorch and NumPy."""
    return dtype if dtype.kind == "f" else np.dtype(np.int64)


class Sum(Reduction):
    """``sum`` over ``params.axes``; the gradient spreads ``g`` back over the summed axes."""

    name = "sum"
    start = "0.0"
    fill = "0"
    fold_into_output: ClassVar[bool] = True

    def shape_rule(self, params: ReduceParams, x: Any) -> tuple[Shape, np.dtype]:
        return reduced_shape(x.shape, params.axes, params.keepdim), sum_dtype(x.dtype)

    def evaluate(self, params: ReduceParams, x: np.ndarray) -> np.ndarray:
        return np.asarray(np.sum(x, axis=params.axes, keepdims=params.keepdim))

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        p = node.params
        return [expand_reduced(g, node.inputs[0].shape, p.axes, p.keepdim)]

    def fold(self, target: str, value: str) -> str:
        return f"{target} += {value}"


SUM = register(Sum())


def reduce_sum(x: Var, axes: tuple[int, ...], keepdim: bool) -> Var:
    """``sum`` over normalized ``axes``."""
    return SUM.bind([x], ReduceParams(tuple(axes), keepdim))


def unbroadcast(x: Var, shape: Shape) -> Var:
    """Sum ``x`` back down to ``shape``, the gradient of broadcasting to ``x.shape``."""
    if same_shape(x.shape, shape):
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    return reshape(reduce_sum(x, axes, keepdim=True), shape)


def expand_reduced(g: Var, shape: Shape, axes: tuple[int, ...], keepdim: bool) -> Var:
    """The gradient of a sum: ``g`` put back over the summed ``axes`` of ``shape``."""
    if not keepdim:
        g = reshape(g, reduced_shape(shape, axes, keepdim=True))
    return broadcast_to(g, shape)


# --- reshape -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReshapeParams:
    """The new shape (no ``-1``: the front end resolves it)."""

    shape: Shape


class Reshape(Primitive):
    """The same elements in a new shape: a free view when it only adds or drops 1s."""

    name = "reshape"
    schedule = Schedule.VIEW

    def shape_rule(self, params: ReshapeParams, x: Any) -> tuple[Shape, np.dtype]:
        if numel(params.shape) != numel(x.shape):
            raise ShapeError(
                f"cannot reshape {shape_str(x.shape)} to {shape_str(params.shape)} in reshape"
            )
        return params.shape, x.dtype

    def evaluate(self, params: ReshapeParams, x: np.ndarray) -> np.ndarray:
        return x.reshape(params.shape)

    def bind(self, inputs: Sequence[Var], params: ReshapeParams) -> Var:
        (x,) = inputs
        shape, _ = self.shape_rule(params, x)
        if same_shape(shape, x.shape):
            return x
        lead = len(shape) - x.ndim
        if lead > 0 and shape[lead:] == x.shape and all(n == 1 for n in shape[:lead]):
            return broadcast_to(x, shape)  # only leading 1s: a broadcast, which fuses
        return Node(self, [x], shape, x.dtype, params=params).output

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        return [reshape(g, node.inputs[0].shape)]

    def is_free_view(self, node: Node) -> bool:
        return is_unit_reshape(node.inputs[0].shape, node.output.shape)

    def emit(self, w: Any, node: Node) -> None:
        source = w.operand(node.inputs[0])
        shape = node.output.shape
        w.emit(1, f"{w.array(node.output)} = np.ascontiguousarray({source}).reshape({shape})")

    def display(self, node: Node, args: list[sympy.Expr]) -> sympy.Expr:
        return args[0]


RESHAPE = register(Reshape())


def reshape(x: Var, shape: Shape) -> Var:
    """``x`` reshaped to ``shape`` (same number of elements)."""
    return RESHAPE.bind([x], ReshapeParams(tuple(shape)))
