"""A mapping keyed by object identity that keeps its keys alive.

Tensors cannot be ordinary dictionary keys: ``Tensor.__eq__`` is elementwise, as
in PyTorch.  An ``id()`` alone is unsafe as a key, since a freed object's id is
reused by the next one; :class:`IdentityDict` keeps a reference to each key, so
an id it holds always means the same object.

Example:
    >>> import symgrad as sg
    >>> a, b = sg.tensor([1.0]), sg.tensor([1.0])
    >>> seen = IdentityDict()
    >>> seen[a] = "a"
    >>> a in seen, b in seen, seen.get(b, "none")
    (True, False, 'none')
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityDict(MutableMapping, Generic[K, V]):
    """``dict`` semantics with ``is`` instead of ``==``; insertion-ordered."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[Any, Any]] = {}

    def __getitem__(self, key: K) -> V:
        return self._items[id(key)][1]

    def __setitem__(self, key: K, value: V) -> None:
        self._items[id(key)] = (key, value)

    def __delitem__(self, key: K) -> None:
        del self._items[id(key)]

    def __contains__(self, key: object) -> bool:
        return id(key) in self._items

    def __iter__(self) -> Iterator[K]:
        return (key for key, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[K, V]]:  # type: ignore[override]
        """The (key, value) pairs, in insertion order."""
        return list(self._items.values())
