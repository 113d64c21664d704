"""``Unflatten``: split one dim into several (the inverse of ``Flatten``).

Example:
    >>> import symgrad as sg
    >>> sg.nn.Unflatten(1, (2, 5))(sg.zeros(3, 10)).shape
    (3, 2, 5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from symgrad.errors import ShapeError, shape_str
from symgrad.frontend.tensor import Tensor
from symgrad.nn.module import Module


class Unflatten(Module):
    """Reshape dim ``dim`` into ``unflattened_size`` (one entry may be ``-1``).

    Example:
        >>> import symgrad as sg
        >>> Unflatten(-1, (2, -1))
        Unflatten(dim=-1, unflattened_size=(2, -1))
        >>> Unflatten(-1, (2, -1))(sg.zeros(4, 6)).shape
        (4, 2, 3)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, Sequence) or not all(
            isinstance(n, int) for n in unflattened_size
        ):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}"
            )
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not -len(shape) <= self.dim < len(shape):
            raise ShapeError(f"Unflatten: dim {self.dim} is out of range for {shape_str(shape)}")
        dim = self.dim % len(shape)
        sizes = list(self.unflattened_size)
        known = math.prod(n for n in sizes if n != -1)
        if sizes.count(-1) == 1 and known and shape[dim] % known == 0:
            sizes[sizes.index(-1)] = shape[dim] // known
        if sizes.count(-1) or math.prod(sizes) != shape[dim]:
            raise ShapeError(
                f"Unflatten: unflattened_size {self.unflattened_size} does not fit dim {self.dim} "
                f"of size {shape[dim]} of input {shape_str(shape)}"
            )
        return input.reshape((*shape[:dim], *sizes, *shape[dim + 1 :]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Unflatten"]
