"""Whether ops record gradients, and the trace being recorded (per thread).

The grad-mode switches have PyTorch's forms: ``no_grad``, ``enable_grad`` and
``inference_mode`` are context managers and decorators (bare or called);
``set_grad_enabled(mode)`` switches at once and, used in ``with``, restores the
previous mode on exit.

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([1.0], requires_grad=True)
    >>> with sg.no_grad():
    ...     (x * 2).requires_grad
    False
    >>> @sg.no_grad
    ... def double(t):
    ...     return t * 2
    >>> double(x).requires_grad, (x * 2).requires_grad
    (False, True)
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Recording(threading.local):
    grad_enabled: bool = True
    inference: bool = False
    trace: Any = None  # the active symgrad.frontend.trace.Trace, if any


RECORDING = _Recording()


def is_grad_enabled() -> bool:
    """Whether ops currently record gradients."""
    return RECORDING.grad_enabled


def is_inference_mode_enabled() -> bool:
    """Whether an :class:`inference_mode` block is active."""
    return RECORDING.inference


def _wrap(make: Callable[[], Any], fn: F) -> F:
    """``fn`` run inside a fresh ``make()`` context at every call (generators: every step)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args, **kwargs):
            gen = fn(*args, **kwargs)
            with make():
                item = next(gen)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    with make():
                        gen.close()
                    raise
                except BaseException as error:
                    with make():
                        item = gen.throw(error)
                else:
                    with make():
                        item = gen.send(sent)

        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with make():
            return fn(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


class _GradMode:
    """A context manager that sets the grad mode on entry and restores it on exit; also a
    decorator, bare (``@no_grad``) or called (``@no_grad()``)."""

    _enabled: bool = False

    def __new__(cls, orig_func: Callable | None = None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
        return cls()(orig_func)

    def __init__(self, orig_func: Callable | None = None) -> None:
        self._previous: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self._previous.append((RECORDING.grad_enabled, RECORDING.inference))
        RECORDING.grad_enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        RECORDING.grad_enabled, RECORDING.inference = self._previous.pop()

    def __call__(self, fn: F) -> F:
        return _wrap(type(self), fn)

    def __repr__(self) -> str:
        return f"symgrad.{type(self).__name__}()"


class no_grad(_GradMode):
    """Within this block (or decorated function), ops record nothing (as in PyTorch).

    >>> import symgrad as sg
    >>> x = sg.tensor([1.0], requires_grad=True)
    >>> with sg.no_grad():
    ...     (x + 1).requires_grad
    False
    """

    _enabled = False


class enable_grad(_GradMode):
    """Turn recording back on, e.g. inside a :class:`no_grad` block.

    >>> import symgrad as sg
    >>> x = sg.tensor([1.0], requires_grad=True)
    >>> with sg.no_grad(), sg.enable_grad():
    ...     (x + 1).requires_grad
    True
    """

    _enabled = True


class set_grad_enabled:
    """Switch recording on or off now; in a ``with`` block (or as a decorator) the previous
    mode comes back on exit, as ``torch.set_grad_enabled``.

    >>> import symgrad as sg
    >>> with sg.set_grad_enabled(False):
    ...     sg.is_grad_enabled()
    False
    >>> sg.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not {mode!r}")
        self.mode = mode
        self.previous = RECORDING.grad_enabled
        RECORDING.grad_enabled = mode

    def __enter__(self) -> None:
        RECORDING.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        RECORDING.grad_enabled = self.previous

    def __call__(self, fn: F) -> F:
        RECORDING.grad_enabled = self.previous  # decorating does not switch the mode
        mode = self.mode
        return _wrap(lambda: set_grad_enabled(mode), fn)

    def __repr__(self) -> str:
        return f"symgrad.set_grad_enabled(mode={self.mode})"


class inference_mode(_GradMode):
    """``no_grad`` for inference (``mode=False`` turns inference mode off and recording on),
    as ``torch.inference_mode``; a context manager and a decorator (bare or called).

    >>> import symgrad as sg
    >>> x = sg.tensor([1.0], requires_grad=True)
    >>> with sg.inference_mode():
    ...     (x * 3).requires_grad, sg.is_inference_mode_enabled()
    (False, True)
    """

    def __new__(cls, mode: bool | Callable = True):
        if callable(mode):  # bare decorator
            return cls(True)(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode(): argument 'mode' must be bool, not {mode!r}")
        self.mode = mode

    def __enter__(self) -> None:
        self._previous.append((RECORDING.grad_enabled, RECORDING.inference))
        RECORDING.grad_enabled = not self.mode  # as PyTorch: inference_mode(False) enables grad
        RECORDING.inference = self.mode

    def __call__(self, fn: F) -> F:
        mode = self.mode
        return _wrap(lambda: inference_mode(mode), fn)

    def __repr__(self) -> str:
        return f"symgrad.inference_mode(mode={self.mode})"
