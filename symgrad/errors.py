"""The exceptions symgrad raises.

Every error derives from :class:`SymgradError` and also from the built-in
exception a Python user would expect, so ``except ValueError`` keeps working.

Example:
    >>> import symgrad as sg
    >>> try:
    ...     sg.tensor([1., 2.]) + sg.tensor([1., 2., 3.])
    ... except sg.errors.ShapeError as e:
    ...     print(e)
    cannot broadcast (2,) with (3,) in add
"""

from __future__ import annotations


class SymgradError(Exception):
    """Base class of every error raised by symgrad."""


class ShapeError(SymgradError, ValueError):
    """Shapes that do not fit an op (broadcasting, reductions, gradients)."""


class GradError(SymgradError, RuntimeError):
    """A gradient that cannot be computed as asked (non-scalar output, no grad)."""


class TraceError(SymgradError, TypeError):
    """Something a traced function did that cannot be recorded (control flow on values)."""


class UnsupportedOpError(SymgradError, NotImplementedError):
    """An op or case symgrad does not support; the message says what to use instead."""


def shape_str(shape: tuple[int, ...]) -> str:
    """Format a shape the way messages show it: ``(2, 3)``, ``(2,)``, ``()``."""
    return str(tuple(shape))
