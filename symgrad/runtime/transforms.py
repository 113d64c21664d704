"""Function transforms in the style of ``torch.func`` and JAX: jacobian, hessian, hvp, jvp.

Each returns a compiled function (one kernel per signature, like :func:`symgrad.grad`),
built by differentiating inside the trace, so transforms nest with each other and with
``grad``: ``hessian(f)`` is ``jacobian(grad(f))``.  ``jvp`` uses the transpose of the
reverse mode: a vector-Jacobian product is linear in its cotangent ``u``, so the
gradient of ``vjp(u) · t`` with respect to ``u`` is ``J t``.

Example:
    >>> import numpy as np, symgrad as sg
    >>> sg.hessian(lambda x: (x**3).sum())(np.array([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy

from symgrad import ir
from symgrad.compiler import autodiff
from symgrad.errors import GradError, shape_str
from symgrad.frontend.apply import as_tensor
from symgrad.frontend.creation import zeros_like
from symgrad.frontend.shape_ops import reshape, stack
from symgrad.frontend.tensor import Tensor, leaf_var
from symgrad.runtime.compiled import CompiledFunction, grad


def _positions(argnums: int | Sequence[int], count: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -count <= n < count:
            raise GradError(f"argnums {argnums} is out of range for {count} arguments")
    return tuple(n % count for n in nums)


def _traced(var: ir.Var | None, like: Tensor) -> Tensor:
    if var is None:
        return zeros_like(like)
    return Tensor(None, var=var, shape=var.shape, dtype=var.dtype)


def _float_output(out: Any, what: str) -> Tensor:
    if not isinstance(out, Tensor) or out.dtype.kind != "f":
        raise GradError(f"{what} needs a function that returns one float tensor")
    return out


def jacobian(fn: Callable, argnums: int | Sequence[int] = 0) -> CompiledFunction:
    """The Jacobian of ``fn`` (reverse mode): shape ``out.shape + x.shape`` per argument.

    >>> import numpy as np, symgrad as sg
    >>> sg.jacobian(lambda x: x**2)(np.array([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """

    def body(*xs: Tensor) -> Any:
        positions = _positions(argnums, len(xs))
        out = _float_output(fn(*xs), "jacobian")
        wrt = [leaf_var(xs[i]) for i in positions]
        one = ir.elementwise(sympy.Integer(1), [], shape=(), dtype=out.dtype)
        rows: list[list[Tensor]] = [[] for _ in positions]
        for index in np.ndindex(out.shape):
            element = out[index] if out.shape else out
            grads = autodiff.vjp([leaf_var(element)], [one], wrt)
            for row, i, g in zip(rows, positions, grads, strict=True):
                row.append(_traced(g, xs[i]))
        blocks = [
            reshape(stack(row), (*out.shape, *xs[i].shape)) if out.shape else row[0]
            for row, i in zip(rows, positions, strict=True)
        ]
        return blocks[0] if isinstance(argnums, int) else tuple(blocks)

    return CompiledFunction(body, "value")


def hessian(fn: Callable, argnums: int = 0) -> CompiledFunction:
    """The Hessian of scalar-valued ``fn``: ``jacobian(grad(fn))``."""
    return jacobian(grad(fn, argnums), argnums)


def hvp(fn: Callable, argnums: int = 0) -> CompiledFunction:
    """``hvp(fn)(x, v)``: the Hessian of scalar ``fn`` at ``x`` times ``v``, without the
    Hessian (the gradient of ``grad(fn)(x) · v``)."""
    first = grad(fn, argnums)

    def along(*args: Tensor) -> Tensor:
        *xs, v = args
        return (first(*xs) * v).sum()

    return grad(along, argnums)


def jvp(fn: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Tensor, Tensor]:
    """``(fn(*primals), J · tangents)``, as ``jax.jvp``: the derivative of ``fn`` at
    ``primals`` along ``tangents`` (one tangent per primal, of its shape).

    >>> import numpy as np, symgrad as sg
    >>> sg.jvp(lambda x: x**3, (np.array([2.0]),), (np.array([1.0]),))
    (tensor([8.]), tensor([12.]))
    """
    if len(primals) != len(tangents):
        raise GradError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    for p, t in zip(primals, tangents, strict=True):
        if as_tensor(p).shape != as_tensor(t).shape:
            raise GradError(
                f"jvp: a tangent of shape {shape_str(as_tensor(t).shape)} for a primal of "
                f"shape {shape_str(as_tensor(p).shape)}"
            )
    count = len(primals)

    def body(*args: Tensor) -> tuple[Tensor, Tensor]:
        xs, ts = args[:count], args[count:]
        out = _float_output(fn(*xs), "jvp")
        cotangent = ir.Var(out.shape, out.dtype)  # free: the result does not depend on it
        vjps = autodiff.vjp([leaf_var(out)], [cotangent], [leaf_var(x) for x in xs])
        total = None
        for g, t in zip(vjps, ts, strict=True):
            if g is not None:
                term = _traced(g, t) * t
                total = term.sum() if total is None else total + term.sum()
        if total is None:
            return out, zeros_like(out)
        one = ir.elementwise(sympy.Integer(1), [], shape=(), dtype=out.dtype)
        (along,) = autodiff.vjp([leaf_var(total)], [one], [cotangent])
        return out, _traced(along, out)

    return CompiledFunction(body, "value")(*primals, *tangents)
