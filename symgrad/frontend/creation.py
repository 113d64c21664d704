"""Making tensors: from data, filled, ranges, identities; random ones come from ``random``.

Python floats, float fills and float ranges get the default dtype (float64,
NumPy's; ``sg.set_default_dtype(sg.float32)`` gives PyTorch's); NumPy arrays keep
theirs.  ``device="cpu"`` is accepted everywhere, other devices are an error.

Example:
    >>> import symgrad as sg
    >>> sg.tensor([[1, 2], [3, 4]]).dtype
    dtype('int64')
    >>> sg.zeros(2, 3).shape
    (2, 3)
    >>> sg.linspace(0, 1, 5)
    tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.dtypes import canonical, check_grad_dtype, get_default_dtype
from symgrad.frontend.apply import parse_sizes
from symgrad.frontend.device import check_device
from symgrad.frontend.random import (  # noqa: F401  (re-exported: creation is their old home)
    generator,
    manual_seed,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
)
from symgrad.frontend.tensor import Tensor
from symgrad.ir.sizes import SymSize
from symgrad.recording import RECORDING


def _finish(value: np.ndarray, dtype, requires_grad: bool, device: Any = None) -> Tensor:
    check_device(device)
    target = canonical(dtype if dtype is not None else value.dtype)
    if value.dtype != target:
        value = value.astype(target)
    if requires_grad:
        check_grad_dtype(target)
    out = Tensor(value, requires_grad=requires_grad)
    if RECORDING.trace is not None:
        RECORDING.trace.created_here(out)
    return out


def _array(data: Any) -> np.ndarray:
    """``data`` as a new array; a Python float becomes the default dtype."""
    if isinstance(data, Tensor):
        return data.numpy().copy()
    try:
        array = np.array(data, copy=True)
    except ValueError as error:
        raise ValueError(
            f"tensor(): data must be a number or nested sequences of equal lengths ({error})"
        ) from None
    if array.dtype == object:  # numbers made from traced sizes (np.arange(n)): their values
        items = [int(v) if isinstance(v, SymSize) else v for v in array.flat]
        if all(isinstance(v, int | float | np.number) for v in items):
            array = np.array(items).reshape(array.shape)
    if array.dtype == object:
        raise TypeError(f"tensor(): could not infer a dtype for {type(data).__name__} data")
    if array.dtype.kind == "f" and not isinstance(data, np.ndarray | np.generic):
        array = array.astype(get_default_dtype(), copy=False)
    return array


def tensor(data, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, a NumPy array or a
    Tensor), as ``torch.tensor``.  Python floats get the default dtype (float64, unlike
    PyTorch's float32; see ``sg.set_default_dtype``), ints int64, NumPy arrays keep
    theirs unless ``dtype`` is given.  ``requires_grad=True`` needs a float dtype, and
    ``device`` may only be ``"cpu"``.  Inside ``@sg.compile`` the copy is a constant of
    the trace.

    >>> import symgrad as sg
    >>> sg.tensor([2., 3.], requires_grad=True), sg.tensor([[1, 2]]).dtype
    (tensor([2., 3.], requires_grad=True), dtype('int64'))
    >>> sg.tensor(1, dtype=sg.float32)
    tensor(1., dtype=float32)
    """
    return _finish(_array(data), dtype, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing a Tensor's or a NumPy array's memory where the dtype
    allows (as ``torch.as_tensor``); otherwise a copy made by :func:`tensor`.  A Tensor of
    the right dtype is returned as it is.

    >>> import numpy as np, symgrad as sg
    >>> a = np.zeros(2)
    >>> t = sg.as_tensor(a); a[0] = 5.0; t
    tensor([5., 0.])
    >>> sg.as_tensor(a, dtype=sg.float32)  # a converted copy
    tensor([5., 0.], dtype=float32)
    """
    if isinstance(data, Tensor) and (dtype is None or canonical(dtype) == data.dtype):
        check_device(device)
        return data
    if isinstance(data, np.ndarray) and (dtype is None or canonical(dtype) == data.dtype):
        if canonical(data.dtype) == data.dtype:
            check_device(device)
            return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory, as ``torch.from_numpy``: changes to one show
    in the other.  Only float32, float64, int64 and bool arrays (symgrad's dtypes); any
    other dtype raises ``TypeError`` (``sg.tensor(array)`` converts a copy).

    >>> import numpy as np, symgrad as sg
    >>> a = np.arange(3.0)
    >>> t = sg.from_numpy(a)
    >>> _ = t.add_(1); a
    array([1., 2., 3.])
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if canonical(array.dtype) != array.dtype:
        raise TypeError(
            f"can't convert np.ndarray of type {array.dtype}: symgrad holds float32, float64, "
            "int64 and bool; use sg.tensor(array) for a converted copy"
        )
    return Tensor(array)


def _filled(size: tuple, fill: Any, dtype, device, requires_grad: bool) -> Tensor:
    target = get_default_dtype() if dtype is None else canonical(dtype)
    return _finish(np.full(parse_sizes(size), fill, target), target, requires_grad, device)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``sg.zeros(2, 3)`` or ``sg.zeros((2, 3))``, as ``torch.zeros``;
    the default float dtype unless ``dtype`` is given.

    >>> import symgrad as sg
    >>> sg.zeros(2, dtype="int64"), sg.zeros((1, 2))
    (tensor([0, 0]), tensor([[0., 0.]]))
    """
    return _filled(size, 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``sg.ones(2, 3)`` or ``sg.ones((2, 3))``, as ``torch.ones``;
    the default float dtype unless ``dtype`` is given.

    >>> import symgrad as sg
    >>> sg.ones(2, 2, dtype=sg.bool)
    tensor([[ True,  True],
            [ True,  True]])
    """
    return _filled(size, 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor to be filled later, as ``torch.empty``; unlike PyTorch's, its values are
    zeros, never leftover memory.

    >>> import symgrad as sg
    >>> sg.empty(2, 3).shape
    (2, 3)
    """
    return _filled(size, 0, dtype, device, requires_grad)


def _fill_value(fill_value: Any) -> Any:
    if isinstance(fill_value, Tensor | np.ndarray):
        array = fill_value.numpy() if isinstance(fill_value, Tensor) else fill_value
        if array.size != 1:
            raise ValueError(f"fill_value must be a number, got shape {array.shape}")
        fill_value = array.item()
    if not isinstance(fill_value, bool | int | float | np.bool_ | np.integer | np.floating):
        raise TypeError(f"fill_value must be a number, not {type(fill_value).__name__}")
    return fill_value


def full(size, fill_value, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (bool,
    int64, or the default float dtype), as ``torch.full``.

    >>> import symgrad as sg
    >>> sg.full((2,), 7), sg.full((2,), 0.5), sg.full((1,), True)
    (tensor([7, 7]), tensor([0.5, 0.5]), tensor([ True]))
    """
    fill_value = _fill_value(fill_value)
    if dtype is None:
        dtype = np.asarray(fill_value).dtype if not isinstance(fill_value, float) else None
    return _filled((size,), fill_value, dtype, device, requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """Zeros with ``t``'s shape (and dtype unless given), as ``torch.zeros_like``.

    >>> import symgrad as sg
    >>> sg.zeros_like(sg.tensor([1, 2])), sg.zeros_like(sg.tensor([1, 2]), dtype=sg.float64)
    (tensor([0, 0]), tensor([0., 0.]))
    """
    return zeros(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """Ones with ``t``'s shape (and dtype unless given), as ``torch.ones_like``.

    >>> import symgrad as sg
    >>> sg.ones_like(sg.zeros(2, 1))
    tensor([[1.],
            [1.]])
    """
    return ones(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def empty_like(t: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor with ``t``'s shape (and dtype unless given), to be filled later, as
    ``torch.empty_like``; its values are zeros.

    >>> import symgrad as sg
    >>> sg.empty_like(sg.tensor([1., 2.]))
    tensor([0., 0.])
    """
    return zeros_like(t, dtype, requires_grad, device=device)


def full_like(
    t: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """``fill_value`` with ``t``'s shape (and dtype unless given), as ``torch.full_like``;
    the value is cast to ``t``'s dtype.

    >>> import symgrad as sg
    >>> sg.full_like(sg.tensor([1, 2]), 7), sg.full_like(sg.tensor([1, 2]), 2.5)
    (tensor([7, 7]), tensor([2, 2]))
    """
    fill_value = _fill_value(fill_value)
    return _filled((t.shape,), fill_value, dtype or t.dtype, device, requires_grad)


def _number(value: Any, name: str, fn: str) -> Any:
    if isinstance(value, Tensor | np.ndarray) and np.size(value) == 1:
        value = np.asarray(value).item()
    if isinstance(value, float | np.floating):
        return value
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # ints, and a traced size (fixed to its value)
        except TypeError:
            pass
    raise TypeError(f"{fn}(): argument '{name}' must be a number, not {value!r}")


def arange(
    start, end=None, step=1, dtype=None, requires_grad: bool = False, *, device=None
) -> Tensor:
    """Evenly spaced values in ``[start, end)``, like ``torch.arange``: int64 for ints, the
    default float dtype when any bound or the step is a float.

    Inside ``@sg.compile``, ``sg.arange(x.shape[0])`` stays symbolic (it counts to the size
    found at run time); any other form reads its bounds as numbers, so the trace holds
    for those sizes only.

    >>> import symgrad as sg
    >>> sg.arange(3), sg.arange(0, 1, 0.25), sg.arange(5, 0, -2)
    (tensor([0, 1, 2]), tensor([0.  , 0.25, 0.5 , 0.75]), tensor([5, 3, 1]))
    """
    if end is None:
        start, end = 0, start
    if isinstance(end, SymSize) and start == 0 and step == 1 and dtype in (None, np.int64):
        return positions(end)  # a traced size: counts to the size the kernel finds
    start, end, step = (
        _number(v, n, "arange")
        for v, n in zip((start, end, step), ("start", "end", "step"), strict=True)
    )
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(
            f"arange: upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    floats = any(isinstance(v, float | np.floating) for v in (start, end, step))
    if dtype is None:
        dtype = get_default_dtype() if floats else np.int64
    count = max(math.ceil((end - start) / step), 0)
    values = start + np.arange(count, dtype=np.float64 if floats else np.int64) * step
    return _finish(values, dtype, requires_grad, device)


def positions(n: int | SymSize) -> Tensor:
    """``arange(n)`` as int64; of a traced size, a node that counts to the size found at
    run time.

    >>> positions(3)
    tensor([0, 1, 2])
    """
    if isinstance(n, SymSize):
        return Tensor(None, var=ir.iota(n), shape=(n,), dtype=np.dtype(np.int64))
    return arange(n)


def linspace(
    start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """``steps`` values from ``start`` to ``end``, both included, as ``torch.linspace``
    (with its rounding: the first half counts up from ``start``, the second down from
    ``end``); the default float dtype unless ``dtype`` is given.

    >>> import symgrad as sg
    >>> sg.linspace(-1, 1, 3), sg.linspace(0, 1, 1)
    (tensor([-1.,  0.,  1.]), tensor([0.]))
    """
    start, end = _number(start, "start", "linspace"), _number(end, "end", "linspace")
    return _finish(
        _linspace(start, end, steps), dtype or get_default_dtype(), requires_grad, device
    )


def _linspace(start: float, end: float, steps: Any) -> np.ndarray:
    steps = operator.index(steps)
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    if steps == 1:
        return np.array([start], np.float64)
    step = (end - start) / max(steps - 1, 1)
    i = np.arange(steps, dtype=np.float64)
    # As PyTorch: the first half counts up from start, the second half down from end.
    return np.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i))


def logspace(
    start,
    end,
    steps: int,
    base: float = 10.0,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` values from ``base**start`` to ``base**end``, evenly spaced in the exponent,
    as ``torch.logspace``.

    >>> import symgrad as sg
    >>> sg.logspace(0, 2, 3), sg.logspace(0, 3, 4, base=2)
    (tensor([  1.,  10., 100.]), tensor([1., 2., 4., 8.]))
    """
    start, end = _number(start, "start", "logspace"), _number(end, "end", "logspace")
    values = np.power(float(base), _linspace(start, end, steps))
    return _finish(values, dtype or get_default_dtype(), requires_grad, device)


def eye(
    n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """The ``n`` by ``m`` (default ``n``) identity matrix, as ``torch.eye``: ones on the
    main diagonal, in the default float dtype unless ``dtype`` is given.

    >>> import symgrad as sg
    >>> sg.eye(2), sg.eye(1, 3, dtype=sg.int64)
    (tensor([[1., 0.],
            [0., 1.]]), tensor([[1, 0, 0]]))
    """
    n = operator.index(n)
    m = n if m is None else operator.index(m)
    if n < 0 or m < 0:
        raise ValueError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _finish(np.eye(n, m), dtype or get_default_dtype(), requires_grad, device)
