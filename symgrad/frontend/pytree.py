"""Pytrees, as in JAX: nested tuples, lists, dicts (and namedtuples, ``None``) of leaves.

A compiled function flattens its arguments into leaves (tensors, arrays, numbers),
traces on the leaves, and rebuilds its results from the kernel's outputs.  The
structure (a :class:`TreeDef`) is part of a call's signature.  Dict keys are sorted,
as JAX sorts them, so ``{"b": x, "a": y}`` and ``{"a": y, "b": x}`` flatten alike;
``None`` is a node with no children.

Example:
    >>> leaves, tree = flatten({"w": 1.0, "b": (2.0, [3.0])})
    >>> leaves
    [2.0, 3.0, 1.0]
    >>> unflatten(tree, ["B", "C", "W"])
    {'b': ('B', ['C']), 'w': 'W'}
    >>> leaf_paths(tree)
    ["['b'][0]", "['b'][1][0]", "['w']"]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

LEAF, NONE, TUPLE, LIST, DICT, NAMEDTUPLE = "leaf", "none", "tuple", "list", "dict", "namedtuple"


class TreeDef:
    """The shape of a pytree without its leaves: a node kind, its children, and its
    ``meta`` (a dict's sorted keys, a namedtuple's class).  Equal structures are equal
    and hash alike (a compiled function keys its signatures by them)."""

    __slots__ = ("_hash", "children", "kind", "meta", "n_leaves")

    def __init__(
        self, kind: str, children: tuple[TreeDef, ...] = (), meta: Any = None, n_leaves: int = 1
    ):
        self.kind = kind
        self.children = children
        self.meta = meta
        self.n_leaves = n_leaves
        self._hash: int | None = None

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, TreeDef)
            and self.kind == other.kind
            and self.meta == other.meta
            and self.children == other.children
        )

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.kind, self.meta, self.children))
        return self._hash

    def __repr__(self) -> str:
        return describe(self)


LEAF_DEF = TreeDef(LEAF)
NONE_DEF = TreeDef(NONE, n_leaves=0)


def _is_namedtuple(value: object) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def is_node(value: object) -> bool:
    """True for the containers a pytree walks into: tuple, list, dict, namedtuple, None."""
    return value is None or type(value) in (tuple, list, dict) or _is_namedtuple(value)


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:
        listed = ", ".join(repr(k) for k in d)
        raise TypeError(
            f"dict keys of a pytree must be sortable (JAX sorts them), got {listed}"
        ) from None


def _node(kind: str, items: Iterable, leaves: list, meta: Any = None) -> TreeDef:
    children = []
    count = 0
    for item in items:
        child = _flatten(item, leaves)
        children.append(child)
        count += child.n_leaves
    return TreeDef(kind, tuple(children), meta, count)


def _flatten(value: Any, leaves: list) -> TreeDef:
    kind = type(value)
    if kind is dict:
        keys = _sorted_keys(value)
        return _node(DICT, [value[k] for k in keys], leaves, keys)
    if kind is tuple:
        return _node(TUPLE, value, leaves)
    if kind is list:
        return _node(LIST, value, leaves)
    if value is None:
        return NONE_DEF
    if isinstance(value, tuple) and hasattr(kind, "_fields"):
        return _node(NAMEDTUPLE, value, leaves, kind)
    leaves.append(value)
    return LEAF_DEF


def leaves(tree: Any) -> list:
    """The leaves of ``tree`` alone (no structure built), in flattening order."""
    out: list = []
    _collect(tree, out)
    return out


def _collect(value: Any, out: list) -> None:
    kind = type(value)
    if kind is dict:
        for k in _sorted_keys(value):
            _collect(value[k], out)
    elif kind is tuple or kind is list or (isinstance(value, tuple) and hasattr(kind, "_fields")):
        for item in value:
            _collect(item, out)
    elif value is not None:
        out.append(value)


def flatten(tree: Any) -> tuple[list, TreeDef]:
    """The leaves of ``tree`` in order (dict keys sorted), and its structure.

    >>> flatten([1, (2, None)])
    ([1, 2], [*, (*, None)])
    """
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def unflatten(tree: TreeDef, leaves: Iterable) -> Any:
    """Rebuild a pytree of structure ``tree`` from ``leaves`` (in flattening order)."""
    items = iter(leaves)
    return _build(tree, items)


def _build(tree: TreeDef, items) -> Any:
    kind = tree.kind
    if kind == LEAF:
        return next(items)
    if kind == NONE:
        return None
    children = [_build(c, items) for c in tree.children]
    if kind == TUPLE:
        return tuple(children)
    if kind == LIST:
        return children
    if kind == DICT:
        return dict(zip(tree.meta, children, strict=True))
    return tree.meta(*children)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """``tree`` with ``fn`` applied to every leaf.

    >>> tree_map(lambda v: v * 10, {"a": 1, "b": [2, 3]})
    {'a': 10, 'b': [20, 30]}
    """
    leaves, structure = flatten(tree)
    return unflatten(structure, [fn(leaf) for leaf in leaves])


def _key_text(tree: TreeDef, k: int) -> str:
    if tree.kind == DICT:
        return f"[{tree.meta[k]!r}]"
    if tree.kind == NAMEDTUPLE:
        return f".{tree.meta._fields[k]}"
    return f"[{k}]"


def leaf_paths(tree: TreeDef) -> list[str]:
    """Where each leaf sits, as index text (``"['w']"``, ``"[0][1]"``; ``""`` for a leaf)."""
    if tree.kind == LEAF:
        return [""]
    return [
        _key_text(tree, k) + path
        for k, child in enumerate(tree.children)
        for path in leaf_paths(child)
    ]


def describe(tree: TreeDef) -> str:
    """A short picture of a structure: ``*`` for a leaf (``{'a': *, 'b': (*, *)}``)."""
    kind = tree.kind
    if kind == LEAF:
        return "*"
    if kind == NONE:
        return "None"
    inner = [describe(c) for c in tree.children]
    if kind == DICT:
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(tree.meta, inner, strict=True)) + "}"
    if kind == LIST:
        return "[" + ", ".join(inner) + "]"
    if kind == NAMEDTUPLE:
        return f"{tree.meta.__name__}({', '.join(inner)})"
    return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


def leaf_names(names: Sequence[str], trees: Sequence[TreeDef]) -> list[str]:
    """One distinct identifier per leaf: the argument's name, then its path
    (``params['w']`` → ``params_w``), for graph listings and kernel parameters."""
    out: list[str] = []
    taken: set[str] = set()
    for name, tree in zip(names, trees, strict=True):
        for path in leaf_paths(tree):
            text = re.sub(r"\W+", "_", f"{name}{path}").strip("_") or "x"
            if text[0].isdigit():
                text = "x" + text
            while text in taken:
                text += "_"
            taken.add(text)
            out.append(text)
    return out


_LITERAL_KEYS = (str, int, bool)


def expression(tree: TreeDef, items: Sequence[str], namespace: dict[str, Any]) -> str:
    """Python source that builds a pytree of structure ``tree`` from the expressions
    ``items`` (one per leaf); keys and classes that have no literal go into ``namespace``.

    >>> expression(flatten({"a": 0, "b": [0]})[1], ["x", "y"], {})
    "{'a': x, 'b': [y]}"
    """
    parts = iter(items)

    def build(node: TreeDef) -> str:
        kind = node.kind
        if kind == LEAF:
            return next(parts)
        if kind == NONE:
            return "None"
        inner = [build(c) for c in node.children]
        if kind == TUPLE:
            return "(" + "".join(f"{x}, " for x in inner) + ")"
        if kind == LIST:
            return "[" + ", ".join(inner) + "]"
        if kind == NAMEDTUPLE:
            name = f"X{len(namespace)}"
            namespace[name] = node.meta
            return f"{name}({', '.join(inner)})"
        keys = []
        for k in node.meta:
            if type(k) in _LITERAL_KEYS:
                keys.append(repr(k))
            else:
                keys.append(f"X{len(namespace)}")
                namespace[keys[-1]] = k
        return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, inner, strict=True)) + "}"

    return build(tree)
