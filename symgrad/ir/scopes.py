"""Where a node was recorded: the module call it belongs to, so large graphs split at layers.

Each :class:`~symgrad.ir.Node` stores ``scope``: the id of the module call that was
running when it was made, counted from the outermost one down to its children (a
model's layers); deeper calls (a layer's own sublayers) count as their layer.  Nodes
made outside any module call have scope ``None``.  Every call gets a new id, so a
layer called twice gives two scopes (whose pieces are identical, and shared).
Reverse mode makes a node's gradient nodes under that node's scope.

Example:
    >>> with module_call():
    ...     with module_call():
    ...         inner = STATE.current
    ...     outer = STATE.current
    >>> inner != outer, STATE.current is None
    (True, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager


class ScopeState:
    """The stack of running module calls and the scope new nodes get."""

    __slots__ = ("current", "ids", "stack")

    def __init__(self) -> None:
        self.stack: list[int] = []
        self.current: int | None = None
        self.ids = itertools.count()

    def enter(self) -> None:
        """A module call begins."""
        self.stack.append(next(self.ids))
        self.current = self.stack[1] if len(self.stack) > 1 else self.stack[0]

    def leave(self) -> None:
        """The innermost module call ends."""
        self.stack.pop()
        stack = self.stack
        self.current = (stack[1] if len(stack) > 1 else stack[0]) if stack else None


STATE = ScopeState()


@contextmanager
def module_call() -> Iterator[None]:
    """Nodes made inside belong to this call (or to the enclosing layer's)."""
    STATE.enter()
    try:
        yield
    finally:
        STATE.leave()


@contextmanager
def within(scope: int | None) -> Iterator[None]:
    """Nodes made inside get ``scope`` (reverse mode: a node's gradient is in its scope)."""
    saved = STATE.current
    STATE.current = scope
    try:
        yield
    finally:
        STATE.current = saved
