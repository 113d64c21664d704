"""A compiled function's arguments: pytrees of leaves, as arrays, and their signature.

Arguments may be Tensors, NumPy arrays, Python numbers, or nested tuples, lists and
dicts of them (pytrees, see :mod:`symgrad.frontend.pytree`).  The kernel sees the
leaves, in flattening order; the signature is each leaf's shape and dtype, then,
when some argument is a container, the structure of the whole argument tuple.

Example:
    >>> import numpy as np
    >>> arrays, signature = arrays_and_signature((np.ones(2), {"w": 1.0}))
    >>> [a.shape for a in arrays], signature[-1]
    ([(2,), ()], (*, {'w': *}))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgrad.dtypes import SUPPORTED
from symgrad.errors import GradError
from symgrad.frontend.apply import to_array
from symgrad.frontend.pytree import (
    LEAF_DEF,
    TUPLE,
    TreeDef,
    flatten,
    is_node,
    leaf_paths,
    unflatten,
)
from symgrad.frontend.tensor import Tensor
from symgrad.frontend.trace import argument_names

_SUPPORTED = frozenset(SUPPORTED)
_LEAVES = (Tensor, np.ndarray, np.generic, bool, int, float)


def _bad_leaf(name: str, path: str, leaf: Any) -> TypeError:
    where = f" at {name}{path}" if path else ""
    return TypeError(
        f"argument {name!r}{where}: unsupported {type(leaf).__name__}; compiled functions take "
        "tensors, arrays and numbers, or nested tuples, lists and dicts of them"
    )


def _name(fn: Callable | None, count: int, position: int) -> str:
    return argument_names(fn, count)[position] if fn is not None else f"x{position}"


def _leaf_array(value: Any) -> np.ndarray | None:
    """``value`` as an array of a supported dtype, or None when it is no kind of leaf."""
    if isinstance(value, _LEAVES):
        return to_array(value)
    return None


def arrays_and_signature(
    args: Sequence[Any], fn: Callable | None = None
) -> tuple[list[np.ndarray], tuple]:
    """The arguments' leaves as arrays, and their signature (shapes and dtypes, flattened,
    then the argument structure when some argument is a container)."""
    arrays, signature = [], []
    for value in args:  # the hot path of every call: arrays pass the first test
        if type(value) is not np.ndarray or value.dtype not in _SUPPORTED:
            if is_node(value):
                return _tree_arrays_and_signature(args, fn)
            array = _leaf_array(value)
            if array is None:
                position = next(i for i, a in enumerate(args) if a is value)
                raise _bad_leaf(_name(fn, len(args), position), "", value)
            value = array
        arrays.append(value)
        signature.append(value.shape)
        signature.append(value.dtype)
    return arrays, tuple(signature)


def _tree_arrays_and_signature(
    args: Sequence[Any], fn: Callable | None
) -> tuple[list[np.ndarray], tuple]:
    arrays, signature, trees = [], [], []
    for position, arg in enumerate(args):
        leaves, tree = flatten(arg)
        trees.append(tree)
        for k, leaf in enumerate(leaves):
            array = leaf if type(leaf) is np.ndarray else _leaf_array(leaf)
            if array is None:
                raise _bad_leaf(_name(fn, len(args), position), leaf_paths(tree)[k], leaf)
            if array.dtype not in _SUPPORTED:
                array = to_array(array)
            arrays.append(array)
            signature.append(array.shape)
            signature.append(array.dtype)
    signature.append(TreeDef(TUPLE, tuple(trees), None, len(arrays)))
    return arrays, tuple(signature)


def arguments_tree(signature: tuple, count: int) -> TreeDef:
    """The structure of the argument tuple behind ``signature`` (``count`` arguments)."""
    if signature and isinstance(signature[-1], TreeDef):
        return signature[-1]
    return TreeDef(TUPLE, (LEAF_DEF,) * count, None, count)


def leaf_ranges(tree: TreeDef) -> list[range]:
    """For each argument of the argument tuple ``tree``, the positions of its leaves."""
    ranges, start = [], 0
    for child in tree.children:
        ranges.append(range(start, start + child.n_leaves))
        start += child.n_leaves
    return ranges


def grad_positions(argnums: int | Sequence[int], count: int) -> tuple[int, ...]:
    """``argnums`` (an int or a sequence of ints, negative counting from the end) checked
    against ``count`` arguments, as non-negative positions."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -count <= n < count:
            raise GradError(f"argnums {argnums} is out of range for {count} arguments")
    return tuple(n % count for n in nums)


def as_tree_of_tensors(value: Any, fn: Callable | None, args: Sequence[Any], position: int) -> Any:
    """Argument ``position`` of ``args`` (for ``fn``) with every leaf a Tensor; numbers and
    arrays are wrapped, anything else is a TypeError naming the argument."""
    leaves, tree = flatten(value)
    out = []
    for leaf, path in zip(leaves, leaf_paths(tree), strict=True):
        if not isinstance(leaf, Tensor):
            array = _leaf_array(leaf)
            if array is None:
                raise _bad_leaf(_name(fn, len(args), position), path, leaf)
            leaf = Tensor(array)
        out.append(leaf)
    return unflatten(tree, out)
