"""Whether ops record gradients, and the trace being recorded (per thread).

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([1.0], requires_grad=True)
    >>> with sg.no_grad():
    ...     (x * 2).requires_grad
    False
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any


class _Recording(threading.local):
    grad_enabled: bool = True
    trace: Any = None  # the active symgrad.frontend.trace.Trace, if any


RECORDING = _Recording()


@contextmanager
def no_grad():
    """Within this block, ops on tensors that require grad record nothing (as in PyTorch)."""
    previous = RECORDING.grad_enabled
    RECORDING.grad_enabled = False
    try:
        yield
    finally:
        RECORDING.grad_enabled = previous


@contextmanager
def enable_grad():
    """Turn recording back on inside a :func:`no_grad` block."""
    previous = RECORDING.grad_enabled
    RECORDING.grad_enabled = True
    try:
        yield
    finally:
        RECORDING.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether ops currently record gradients."""
    return RECORDING.grad_enabled
