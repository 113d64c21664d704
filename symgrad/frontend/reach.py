"""How a traced function reached the tensors it captured, so a later call can check the path.

A function reads a tensor through a closure cell or a global name, perhaps then a few
dict keys, list or tuple indices or attributes (``box["w"]``, ``self.w``, a module's
attribute).  :func:`find_paths` records, for each captured tensor, the first such path
(at most :data:`MAX_STEPS` steps past the root); :func:`resolve` follows a path again.
A compiled function's runner checks ``<expression(path)> is tensor`` on every call: a
name rebound to a new tensor after the first call makes it trace again instead of
reading the old one.

Example:
    >>> import symgrad as sg
    >>> box = {"w": sg.tensor([1.0])}
    >>> f = lambda x: x * box["w"]
    >>> path = find_paths(f, [box["w"]])[0]
    >>> path, resolve(f, path) is box["w"]
    ((('global', 'box'), ('item', 'w')), True)
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

MAX_STEPS = 2  # container steps past a closure cell or global
MAX_FANOUT = 64  # entries looked at per container

Path = tuple[tuple[str, Any], ...]
_MISSING = object()


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _roots(fn: Callable) -> Iterator[tuple[tuple[str, Any], Any]]:
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    for i, cell in enumerate(getattr(fn, "__closure__", None) or ()):
        try:
            yield ("cell", i), cell.cell_contents
        except ValueError:  # an empty cell
            continue
    scope = getattr(fn, "__globals__", {})
    for name in dict.fromkeys(_names(code)):
        if name in scope:
            yield ("global", name), scope[name]


def _children(value: Any) -> Iterator[tuple[tuple[str, Any], Any]]:
    if isinstance(value, dict):
        items = [(("item", k), v) for k, v in value.items() if isinstance(k, str | int)]
    elif isinstance(value, list | tuple):
        items = [(("item", i), v) for i, v in enumerate(value)]
    elif isinstance(value, types.ModuleType | type) or callable(value):
        return
    else:
        attributes = getattr(value, "__dict__", None)
        if not isinstance(attributes, dict):
            return
        items = [(("attr", k), v) for k, v in attributes.items() if isinstance(k, str)]
    yield from items[:MAX_FANOUT]


def find_paths(fn: Callable, tensors: Sequence[Any]) -> list[Path | None]:
    """For each of ``tensors`` (by identity; None entries are skipped), a path from ``fn``
    to it, or None."""
    wanted = {id(t): k for k, t in enumerate(tensors) if t is not None}
    found: list[Path | None] = [None] * len(tensors)
    frontier = [((root,), value) for root, value in _roots(fn)]
    for depth in range(MAX_STEPS + 1):
        following = []
        for path, value in frontier:
            k = wanted.get(id(value))
            if k is not None and found[k] is None and value is tensors[k]:
                found[k] = path
            elif depth < MAX_STEPS:
                following.extend(((*path, step), child) for step, child in _children(value))
        frontier = following
    return found


def expression(path: Path, fn_name: str = "F") -> str:
    """Python code that follows ``path`` from the function named ``fn_name``."""
    (kind, key), *steps = path
    text = (
        f"{fn_name}.__closure__[{key}].cell_contents"
        if kind == "cell"
        else (f"{fn_name}.__globals__[{key!r}]")
    )
    for step, name in steps:
        text = f"{text}[{name!r}]" if step == "item" else f"getattr({text}, {name!r})"
    return text


#: What following a path can raise when it no longer leads anywhere.
BROKEN = (LookupError, AttributeError, TypeError, ValueError)


def resolve(fn: Callable, path: Path) -> Any:
    """What ``path`` leads to in ``fn`` now (a unique sentinel when it leads nowhere)."""
    try:
        return eval(expression(path), {"F": fn})
    except BROKEN:
        return _MISSING
