"""Checks for people writing and testing differentiable code: ``sg.testing.gradcheck``.

Example:
    >>> import numpy as np, symgrad as sg
    >>> sg.testing.gradcheck(lambda x, y: sg.sin(x) * y, np.array([0.5, 1.0]), np.array([2.0, 3.0]))
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgrad.errors import GradError
from symgrad.frontend.apply import to_array
from symgrad.frontend.tensor import Tensor
from symgrad.recording import no_grad
from symgrad.runtime.transforms import jacobian


def _numeric_jacobian(fn: Callable, arrays: list[np.ndarray], i: int, eps: float) -> np.ndarray:
    def value(x: np.ndarray) -> np.ndarray:
        args = [Tensor(a) for a in arrays]
        args[i] = Tensor(x)
        with no_grad():
            return np.asarray(fn(*args).numpy(), dtype=np.float64)

    base = arrays[i]
    out_shape = value(base).shape
    jac = np.zeros((*out_shape, *base.shape))
    for index in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[index] += eps
        down[index] -= eps
        jac[(..., *index)] = (value(up) - value(down)) / (2 * eps)
    return jac


def gradcheck(
    fn: Callable,
    *args: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare ``fn``'s gradient kernels with central finite differences, as
    ``torch.autograd.gradcheck`` does: for every float argument, the Jacobian from
    :func:`symgrad.jacobian` must match the numeric one (float64 copies of the inputs)
    to ``atol + rtol * |numeric|``.  Returns True, or raises :class:`GradError`
    naming the argument and the worst entry (False with ``raise_exception=False``).
    """
    arrays = [to_array(a) for a in args]
    positions = tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")
    if not positions:
        raise GradError("gradcheck needs at least one float argument")
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    analytic = jacobian(fn, argnums=positions)(*arrays)
    for i, ours in zip(positions, analytic, strict=True):
        numeric = _numeric_jacobian(fn, arrays, i, eps)
        ours = ours.numpy()
        error = np.abs(ours - numeric) - (atol + rtol * np.abs(numeric))
        if ours.shape != numeric.shape or (error > 0).any():
            if not raise_exception:
                return False
            worst = np.unravel_index(np.argmax(error), error.shape) if error.size else ()
            raise GradError(
                f"gradcheck: the Jacobian with respect to argument {i} differs from finite "
                f"differences: at {tuple(int(k) for k in worst)} the kernel gives "
                f"{ours[worst]!r}, finite differences {numeric[worst]!r}"
            )
    return True
