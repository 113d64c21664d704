"""The primitive registry: every op of the IR is one :class:`Primitive` object.

A primitive carries everything each stage needs to know about its op, in one
place: its typed ``params`` (a frozen dataclass of plain ints and tuples), the
shape/dtype rule that raises :class:`~symgrad.errors.ShapeError`, its NumPy
evaluation, its vector-Jacobian product written in the IR (a JVP slot is left for
forward mode), how the code generator schedules it (:class:`Schedule`) and the
kernel lines it emits, and its display in formulas (a SymPy expression).  The
stages look rules up on ``node.primitive``; nothing else is keyed by op name.

Adding a structured op is one subclass in one of ``symgrad/ir/primitives/*.py``,
registered with :func:`register` (see ``docs/architecture.md``).

Example:
    >>> from symgrad.ir import PRIMITIVES
    >>> PRIMITIVES["sum"].schedule
    <Schedule.REDUCTION: 'reduction'>
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import astuple, is_dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import sympy

from symgrad.errors import UnsupportedOpError
from symgrad.ir.graph import Node, Var
from symgrad.ir.shapes import Shape


class Schedule(enum.Enum):
    """How the code generator places a node."""

    ELEMENTWISE = "elementwise loop"  # a member of a fused loop over its output shape
    REDUCTION = "reduction"  # folded into the loop over its input's shape
    VIEW = "view"  # a new view of its input's array (unit reshapes are free)
    LIBRARY = "library call"  # one call into a library (BLAS)
    INDEX_LOOP = "index loop"  # a loop nest of its own (gather, scatter, argmax, concat)


# A VJP rule: (node, upstream gradient, which inputs want one) -> one gradient or None each.
VjpRule = Callable[[Node, Var, Sequence[bool]], list]


class Primitive:
    """One op of the IR.  Subclasses override what applies to them.

    ``shape_rule`` and ``evaluate`` describe the op as users call it; ``bind``
    records it (and may simplify: a reshape to the same shape records nothing).
    ``vjp`` returns, for each input, its gradient Var (or ``None``).  ``emit``
    writes the kernel lines of nodes that are not fused loops, through the kernel
    writer ``w`` (see :class:`symgrad.compiler.codegen.kernel.KernelWriter`);
    ``kernel_locals`` lists the name stems its lines use, which argument names
    must avoid; ``fold_into_output`` says a fused loop can accumulate the node's
    value straight into an output buffer (``+=``).  A ``formula_only`` primitive names a
    composite function (``softmax``) in the graphs formulas are read from; no kernel is
    generated for it.
    """

    name: ClassVar[str] = ""
    schedule: ClassVar[Schedule] = Schedule.INDEX_LOOP
    differentiable: ClassVar[bool] = True
    kernel_locals: ClassVar[tuple[str, ...]] = ()
    fold_into_output: ClassVar[bool] = False  # a loop may add its value straight into an output
    formula_only: ClassVar[bool] = False  # shown in formulas, never in a kernel
    jvp: ClassVar[VjpRule | None] = None  # forward mode: filled in per primitive later

    def shape_rule(self, params: Any, *inputs: Any) -> tuple[Shape, np.dtype]:
        """The result's shape and dtype for inputs with ``.shape``/``.dtype``/``.ndim``."""
        raise NotImplementedError(f"primitive {self.name!r} has no shape rule")

    def evaluate(self, params: Any, *arrays: np.ndarray) -> np.ndarray:
        """The result computed with NumPy."""
        raise NotImplementedError(f"primitive {self.name!r} has no NumPy evaluation")

    def interpret(self, node: Node, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """The node's value from its inputs' arrays (the interpreter tier): ``evaluate``."""
        return self.evaluate(node.params, *arrays)

    def bind(self, inputs: Sequence[Var], params: Any = None) -> Var:
        """Record one node applying this primitive to ``inputs``; returns its output."""
        shape, dtype = self.shape_rule(params, *inputs)
        return Node(self, inputs, shape, dtype, params=params).output

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        """Gradients of ``sum(node.output * g)`` with respect to each input."""
        raise UnsupportedOpError(f"no gradient rule for op {self.name!r}")

    def emit(self, w: Any, node: Node) -> None:
        """Write the kernel lines that compute ``node.output``."""
        raise UnsupportedOpError(f"op {self.name!r} has no kernel emitter")

    def is_free_view(self, node: Node) -> bool:
        """True when the node costs no code: reads go through to its input's array."""
        return False

    def display(self, node: Node, args: list[sympy.Expr]) -> sympy.Expr:
        """The node in a formula, over its inputs' expressions: ``matmul(x, w)``."""
        return sympy.Function(self.name)(*args)

    def describe(self, node: Node, input_names: list[str]) -> str:
        """The node's right-hand side in a printed graph: ``sum[(0,), False] t0``."""
        values = astuple(node.params) if is_dataclass(node.params) else ()
        params = ", ".join(str(p) for p in values)
        return f"{self.name}[{params}] {' '.join(input_names)}"

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


PRIMITIVES: dict[str, Primitive] = {}

P = TypeVar("P", bound=Primitive)


def register(primitive: P) -> P:
    """Add ``primitive`` to the registry and return the registered one.

    Names are unique.  A module of primitives imported a second time under another
    name (a test runner collecting doctests by path) gets the first registration back.
    """
    existing = PRIMITIVES.get(primitive.name)
    if existing is None:
        PRIMITIVES[primitive.name] = primitive
        return primitive
    if type(existing).__qualname__ != type(primitive).__qualname__:
        raise ValueError(f"a primitive named {primitive.name!r} is already registered")
    return existing
