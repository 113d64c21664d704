"""Process-wide switches: whether ops record gradients, and the trace being recorded.

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


class _State(threading.local):
    grad_enabled: bool = True
    trace: Any = None  # the active symgrad.trace.Trace, if any


STATE = _State()


@contextmanager
def no_grad():
    """Within this block, ops on tensors that require grad record nothing (as in PyTorch)."""
    previous = STATE.grad_enabled
    STATE.grad_enabled = False
    try:
        yield
    finally:
        STATE.grad_enabled = previous


@contextmanager
def enable_grad():
    """Turn recording back on inside a :func:`no_grad` block."""
    previous = STATE.grad_enabled
    STATE.grad_enabled = True
    try:
        yield
    finally:
        STATE.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether ops currently record gradients."""
    return STATE.grad_enabled
