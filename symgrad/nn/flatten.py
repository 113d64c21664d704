"""``Flatten`` and ``Unflatten``: merge a run of dims into one, and split one dim into
several, as ``torch.nn.Flatten`` and ``torch.nn.Unflatten``.

Both only reshape (no data is copied or reordered), so they record a gradient and
compile like ``Tensor.reshape``.

Example:
    >>> import symgrad as sg
    >>> sg.nn.Unflatten(1, (2, 5))(sg.zeros(3, 10)).shape
    (3, 2, 5)
    >>> sg.nn.Flatten()(sg.zeros(3, 2, 5)).shape
    (3, 10)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from symgrad.errors import ShapeError, shape_str
from symgrad.frontend.tensor import Tensor
from symgrad.nn.module import Module


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` (inclusive, negative counts from the end) into
    one; by default all but the batch dim, ``(N, *) -> (N, prod(*))``.

    Example:
        >>> import symgrad as sg
        >>> Flatten()(sg.zeros(2, 3, 4)).shape
        (2, 12)
        >>> Flatten(0, 1)
        Flatten(start_dim=0, end_dim=1)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        """``input.flatten(start_dim, end_dim)``.

        >>> import symgrad as sg
        >>> Flatten(0, 1)(sg.zeros(2, 3, 4)).shape
        (6, 4)
        """
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        """The dims, as shown inside the repr.

        >>> Flatten().extra_repr()
        'start_dim=1, end_dim=-1'
        """
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Reshape dim ``dim`` into ``unflattened_size`` (one entry may be ``-1``, the size
    that makes the product fit).

    ``unflattened_size`` must be a tuple or list of ints (else ``TypeError``); a size
    that does not fit the input's dim, or ``dim`` out of range, raises ``ShapeError``
    when the layer is called.

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
        """``input`` with dim ``dim`` replaced by the ``unflattened_size`` dims.

        >>> import symgrad as sg
        >>> Unflatten(0, (2, 3))(sg.arange(6)).tolist()
        [[0, 1, 2], [3, 4, 5]]
        """
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
        """``dim`` and ``unflattened_size``, as shown inside the repr.

        >>> Unflatten(1, [2, 2]).extra_repr()
        'dim=1, unflattened_size=(2, 2)'
        """
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Flatten", "Unflatten"]
