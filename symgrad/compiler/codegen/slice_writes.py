"""A ``slice_add`` written without zeroing its whole array first.

A ``slice_add`` adds each input into its region of a zeroed array, in the loop over the
inputs' shape.  When one region, the *first writer*, reaches each of its elements no later
than any other region does (in that loop's order, its store written first in the body),
its element can be stored with ``=``: only the elements outside its region need zeros
before the loop, and the other regions add with ``+=`` as before.  The gradient of
``x[1:]`` and ``x[:-1]`` then zeroes one element instead of the whole array, and half of
its stores read nothing.

The first writer must be a box (unit steps, or a single element, in every dim) so that
what lies outside it is a few slabs.  Two regions of one ``slice_add`` have the same
counts; where they meet, the loop index of one is the other's plus a fixed offset when
their steps agree, and that offset decides which comes first.  Anything that cannot be
decided this way keeps the zero fill.

Example:
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> first_writer_of([((0, 1, n - 1),), ((1, 1, n - 1),)])
    1
    >>> outside(((1, 1, n - 1),), (n,))
    ['0:1']
    >>> outside(((1, 1, 2), (0, 1, 4)), (5, 4))
    ['0:1', '3:5']
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from symgrad import ir
from symgrad.ir.primitives.slicing import Region

#: What :func:`_offset` says of a dim in which two regions never reach one element.
NEVER_MEET = "never meet"


def _is_box(region: Region) -> bool:
    """Every dim a unit step or a single element: what lies outside is a few slabs."""
    return all(abs(step) == 1 or sympy.sympify(count) == 1 for _, step, count in region)


def _offset(first: tuple, other: tuple) -> int | str | None:
    """For one dim: the loop index of ``first`` minus that of ``other`` where both reach
    one element; :data:`NEVER_MEET` when they reach none in common, None when the offset is
    not a known integer."""
    (start_f, step_f, count), (start_o, step_o, _) = first, other
    count = sympy.sympify(count)
    difference = sympy.simplify(sympy.sympify(start_o) - sympy.sympify(start_f))
    if count == 1:  # both loop indices are 0: the same element or none
        return NEVER_MEET if difference.is_number and difference != 0 else 0
    if step_f != step_o or not difference.is_Rational:
        return None
    offset = difference / step_f
    if not offset.is_Integer:
        return NEVER_MEET  # the strides interleave
    if count.is_Integer and abs(offset) >= count:
        return NEVER_MEET  # too far apart for the loop to reach a shared element
    return int(offset)


def writes_first(first: Region, other: Region) -> bool:
    """Whether ``first`` provably reaches every element it shares with ``other`` no later
    than ``other`` does, in the order of the loop over their counts.

    ``x[1:, :-1]`` reaches element ``(r, c)`` at loop index ``(r - 1, c)``, before
    ``x[:-1, 1:]`` does (at ``(r, c - 1)``):

    >>> writes_first(((1, 1, 4), (0, 1, 3)), ((0, 1, 4), (1, 1, 3)))
    True
    >>> writes_first(((0, 1, 4), (1, 1, 3)), ((1, 1, 4), (0, 1, 3)))
    False
    >>> writes_first(((0, 2, 3),), ((1, 2, 3),))
    True
    """
    offsets = [_offset(f, o) for f, o in zip(first, other, strict=True)]
    if NEVER_MEET in offsets:
        return True
    if any(offset is None for offset in offsets):
        return False
    for offset in offsets:  # lexicographic: the first nonzero dim decides
        if offset != 0:
            return offset < 0
    return True


def first_writer_of(regions: Sequence[Region]) -> int | None:
    """The index of a region that can be stored with ``=`` (see the module), or None."""
    for k, region in enumerate(regions):
        if _is_box(region) and all(
            writes_first(region, other) for j, other in enumerate(regions) if j != k
        ):
            return k
    return None


def first_writer(node: ir.Node) -> int | None:
    """For a ``slice_add`` node: the input stored with ``=`` (None: zero-fill, ``+=``)."""
    if node.primitive is not ir.SLICE_ADD or not node.output.ndim:
        return None
    return first_writer_of(node.params.regions)


def outside(region: Region, shape: Sequence) -> list[str]:
    """Index expressions (slices) of disjoint slabs that together cover every element of an
    array of ``shape`` outside box ``region``: in dim d, those before and after the box,
    with the dims before d inside it.  A dim the box misses entirely (count 0) is covered
    whole by its two slabs, whatever its start."""
    slabs, inside = [], []
    for (start, step, count), size in zip(region, shape, strict=True):
        count = sympy.sympify(count)
        low = sympy.sympify(start) + (0 if step > 0 else step * (count - 1))
        high = low + count
        if low != 0:
            slabs.append([*inside, f"0:{low}"])
        if sympy.simplify(high - sympy.sympify(size)) != 0:
            slabs.append([*inside, f"{high}:{size}"])
        inside.append(f"{low}:{high}")
    return [", ".join(slab) for slab in slabs]
