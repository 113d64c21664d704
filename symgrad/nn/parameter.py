"""``Parameter``: a leaf Tensor that a :class:`~symgrad.nn.Module` registers as trainable.

Example:
    >>> import symgrad as sg
    >>> w = sg.nn.Parameter(sg.tensor([1.0, 2.0]))
    >>> w
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    >>> w.is_leaf, w.requires_grad
    (True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.dtypes import check_grad_dtype, float64
from symgrad.frontend.apply import to_array
from symgrad.frontend.tensor import Tensor, wrap


def set_array(tensor: Tensor, array: np.ndarray) -> None:
    """Make ``tensor`` (a leaf) hold ``array`` from now on, keeping the Tensor object.

    The cached graph value is dropped, so later ops see the new shape and dtype, and
    graphs recorded with the old array can no longer read it.

    >>> import numpy as np
    >>> p = Parameter(np.zeros(2))
    >>> set_array(p, np.ones(3, np.float32))
    >>> p.shape, p.dtype
    ((3,), dtype('float32'))
    """
    tensor._value = array
    tensor._shape = array.shape
    tensor._dtype = array.dtype
    tensor._var = None
    tensor._version.bump()  # graphs recorded with the old array must not read the new one


class Parameter(Tensor):
    """A Tensor that is a module parameter: a leaf with ``requires_grad=True`` by default.

    ``data`` may be a Tensor (its array is shared, not copied, as in PyTorch), a NumPy
    array or anything ``np.asarray`` takes; ``None`` gives an empty float64 parameter.

    Example:
        >>> import numpy as np
        >>> import symgrad as sg
        >>> a = np.zeros(3)
        >>> p = Parameter(a)
        >>> p.numpy() is a
        True
        >>> Parameter(sg.tensor([1, 2]), requires_grad=False).requires_grad
        False
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        array = np.empty(0, float64) if data is None else to_array(data)
        if requires_grad:
            check_grad_dtype(array.dtype)
        super().__init__(array, requires_grad=requires_grad)

    @property
    def data(self) -> Tensor:
        """The values as a plain Tensor sharing the array (outside the recorded graph);
        assigning to it replaces the array (any shape or dtype), as PyTorch's ``.data``.

        >>> import symgrad as sg
        >>> p = Parameter(sg.zeros(2))
        >>> p.data = sg.tensor([1.0, 2.0, 3.0])
        >>> p.data, p.shape
        (tensor([1., 2., 3.]), (3,))
        """
        return wrap(self.numpy())

    @data.setter
    def data(self, value: Tensor | np.ndarray) -> None:
        set_array(self, to_array(value))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


__all__ = ["Parameter"]
