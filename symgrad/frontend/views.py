"""Views and in-place ops: a write through ``x[0]`` or ``x.T`` changes ``x``, as in PyTorch.

Eagerly a view shares its base's NumPy array, so the values follow by themselves;
but the recorded graph (for gradients) and a trace inside ``@sg.compile`` (where
tensors have no arrays) see each tensor as its own value.  So each view remembers
its base and how to write a new value of the view back into it; an in-place op on
the view (``add_``, ``+=``, ``x[0][1] = v``, ``zero_``) then rebinds the base to the
base with that region replaced, and so on up a chain of views.

Views made by basic indexing (ints, slices, None, ``...``), ``permute``/``transpose``/
``.T``, ``squeeze`` and ``unsqueeze`` are tracked (PyTorch makes these views always).
A tensor also knows its live views and how each reads it: after it changes in place
(directly or through one of them), the others are read again from its new value, so
a view made before the change shows it, as PyTorch's views of shared storage do.

Example:
    >>> import symgrad as sg
    >>> @sg.compile(tier="interpret")
    ... def bump_first_row(a):
    ...     b = a * 1
    ...     b[0].add_(1)
    ...     return b
    >>> bump_first_row(sg.zeros(2, 2))
    tensor([[1., 1.],
            [0., 0.]])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from symgrad.errors import GradError
from symgrad.frontend.tensor import Tensor

WriteBack = Callable[[Tensor, Tensor], None]
Read = Callable[[Tensor], Tensor]

_WRITING: list[Tensor] = []  # views being written back into their bases (already current)


def mark_view(view: Tensor, base: Tensor, write_back: WriteBack, read: Read) -> Tensor:
    """Record that ``view`` is ``read(base)``, a view of ``base``: ``write_back(base, view)``
    puts a new value of ``view`` into ``base``.  Returns ``view``."""
    if view is not base:
        view._view_of = (base, write_back, read)
        views = getattr(base, "_views", None)  # weakly: a view nobody holds is not refreshed
        if views is None:
            views = base._views = []
        views.append(weakref.ref(view))
        if len(views) >= 32 and not len(views) & (len(views) - 1):  # at powers of two
            views[:] = [ref for ref in views if ref() is not None]
    return view


def write_through(target: Tensor) -> None:
    """After an in-place op recorded on ``target``: its views read it again, and the same
    change goes into the tensor it views (whose other views then read that again)."""
    _refresh_views(target)
    link = target._view_of
    if link is not None:
        base, write_back, _ = link
        _WRITING.append(target)
        try:
            write_back(base, target)
        finally:
            _WRITING.pop()


def _refresh_views(base: Tensor) -> None:
    for ref in list(getattr(base, "_views", ())):
        view = ref()
        link = None if view is None else view._view_of
        if link is None or link[0] is not base or any(view is w for w in _WRITING):
            continue
        fresh = link[2](base)
        view._var = fresh._var
        view.requires_grad = view.requires_grad or fresh.requires_grad
        _refresh_views(view)


def check_view_writable(target: Tensor) -> None:
    """Raise ``GradError`` (before anything changes) when ``target`` views, directly or
    through other views, a leaf tensor that requires grad: as in PyTorch, such a leaf
    changes in place only under ``sg.no_grad()``."""
    link = target._view_of
    while link is not None:
        base = link[0]
        if base.requires_grad and base.is_leaf:
            raise GradError(
                "a view of a leaf tensor that requires grad cannot be changed in place while "
                "gradients are recorded; wrap the update in `with sg.no_grad():`"
            )
        link = base._view_of
