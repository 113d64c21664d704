"""Collation, as ``torch.utils.data``'s: :func:`default_collate` makes one batch from a
list of samples, :func:`default_convert` converts one sample when a loader does not
batch.  ``symgrad.utils.data`` re-exports both.

Example:
    >>> import symgrad as sg
    >>> default_collate([{"x": 1.0}, {"x": 2.0}])
    {'x': tensor([1., 2.])}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from symgrad.frontend import shape_ops
from symgrad.frontend.creation import tensor
from symgrad.frontend.tensor import Tensor

_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_collate(batch: Sequence[Any]) -> Any:
    """One batch from a list of samples: tensors and arrays stacked, numbers made tensors,
    tuples (as lists), lists, named tuples and dicts collated field by field.

    Floats become float64 (whatever ``sg.get_default_dtype()`` is), ints int64, and
    strings stay a list.  Samples of other types (or of NumPy string/object dtype),
    and lists of unequal lengths, raise ``TypeError``/``ValueError``.

    >>> import symgrad as sg
    >>> default_collate([(sg.tensor([1., 2.]), 0), (sg.tensor([3., 4.]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return shape_ops.stack(list(batch))
    if isinstance(elem, np.ndarray | np.generic) and not isinstance(elem, np.str_ | np.bytes_):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        if isinstance(elem, np.generic):
            return tensor(np.array(batch))
        return shape_ops.stack([tensor(b) for b in batch])
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        return fields if type(elem) is dict else _rebuild(type(elem), fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise ValueError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch, strict=True)]
        return columns if isinstance(elem, tuple) else _rebuild(type(elem), columns)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def _rebuild(kind: type, fields: Any) -> Any:
    try:
        return kind(fields)
    except TypeError:  # a type that cannot be built from its fields
        return dict(fields) if isinstance(fields, Mapping) else list(fields)


def default_convert(data: Any) -> Any:
    """Arrays and NumPy numbers as tensors, inside tuples (which become lists, as in
    PyTorch), lists and dicts too: what a loader without batching (``batch_size=None``)
    returns.  Python numbers and strings are left as they are.

    >>> import numpy as np
    >>> default_convert((np.arange(2), 3, "a"))
    [tensor([0, 1]), 3, 'a']
    """
    if isinstance(data, np.ndarray | np.generic) and data.dtype.kind not in "OSUV":
        return tensor(data)
    if isinstance(data, Mapping):
        return _rebuild(type(data), {key: default_convert(v) for key, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as PyTorch
    if isinstance(data, list):
        return _rebuild(type(data), [default_convert(d) for d in data])
    return data


__all__ = ["default_collate", "default_convert"]
