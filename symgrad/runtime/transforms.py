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
from symgrad.frontend import pytree
from symgrad.frontend.apply import as_tensor
from symgrad.frontend.creation import zeros_like
from symgrad.frontend.shape_ops import reshape, stack
from symgrad.frontend.tensor import Tensor, leaf_var
from symgrad.frontend.trace import argument_names
from symgrad.runtime.arguments import grad_positions
from symgrad.runtime.compiled import CompiledFunction, grad


def _traced(var: ir.Var | None, like: Tensor) -> Tensor:
    if var is None:
        return zeros_like(like)
    return Tensor(None, var=var, shape=var.shape, dtype=var.dtype)


def _float_leaves(out: Any, what: str) -> tuple[list[Tensor], pytree.TreeDef]:
    """The leaves of a function's result (a Tensor or a pytree of them), all float."""
    leaves, tree = pytree.flatten(out)
    if not leaves or any(not isinstance(t, Tensor) or t.dtype.kind != "f" for t in leaves):
        raise GradError(
            f"{what} needs a function that returns a float tensor (or a pytree of them)"
        )
    return leaves, tree


def _pack(argnums: int | Sequence[int], per_argument: list) -> Any:
    return per_argument[0] if isinstance(argnums, int) else tuple(per_argument)


def jacobian(fn: Callable, argnums: int | Sequence[int] = 0) -> CompiledFunction:
    """The Jacobian of ``fn`` (reverse mode): shape ``out.shape + x.shape`` per argument,
    as ``torch.func.jacrev``; a tuple ``argnums`` gives a tuple of Jacobians.

    As ``jax.jacrev``, arguments and results may be pytrees: each result leaf is
    replaced by the pytree of the differentiated argument, holding the blocks.  The
    trace takes one gradient per output element, so it grows with the output's size
    and each new output size traces again (see :func:`symgrad.compile`).

    >>> import numpy as np, symgrad as sg
    >>> sg.jacobian(lambda x: x**2)(np.array([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """

    def body(*xs: Any) -> Any:
        positions = grad_positions(argnums, len(xs))
        outs, out_tree = _float_leaves(fn(*xs), "jacobian")
        trees = [pytree.flatten(xs[i]) for i in positions]
        wrt_leaves = [leaf for leaves, _ in trees for leaf in leaves]
        wrt = [leaf_var(x) for x in wrt_leaves]
        results = []
        for out in outs:
            one = ir.elementwise(sympy.Integer(1), [], shape=(), dtype=out.dtype)
            rows: list[list[Tensor]] = [[] for _ in wrt]
            for index in np.ndindex(out.shape):
                element = out[index] if out.shape else out
                grads = autodiff.vjp([leaf_var(element)], [one], wrt)
                for row, x, g in zip(rows, wrt_leaves, grads, strict=True):
                    row.append(_traced(g, x))
            blocks = iter(
                reshape(stack(row), (*out.shape, *x.shape)) if out.shape else row[0]
                for row, x in zip(rows, wrt_leaves, strict=True)
            )
            per_argument = [
                pytree.unflatten(tree, [next(blocks) for _ in leaves]) for leaves, tree in trees
            ]
            results.append(_pack(argnums, per_argument))
        return pytree.unflatten(out_tree, results)

    return CompiledFunction(body, "value")


def hessian(fn: Callable, argnums: int = 0) -> CompiledFunction:
    """The Hessian of scalar-valued ``fn``: ``jacobian(grad(fn))``, as
    ``torch.func.hessian`` (for a dict argument, a dict of dicts of blocks, as
    ``jax.hessian``).  ``argnums`` is one int.

    >>> import symgrad as sg
    >>> sg.hessian(lambda x: (x[0] * x[1] ** 2))(sg.tensor([1., 3.]))
    tensor([[0., 6.],
            [6., 2.]])
    """
    return jacobian(grad(fn, argnums), argnums)


def hvp(fn: Callable, argnums: int = 0) -> CompiledFunction:
    """``hvp(fn)(x, v)``: the Hessian of scalar ``fn`` at ``x`` times ``v``, without the
    Hessian (the gradient of ``grad(fn)(x) · v``); ``v`` has the structure of the
    differentiated argument, else ``TypeError``.  Unlike ``torch.func``'s
    ``hvp(f, primals, tangents)``, it returns a compiled function of ``(*args, v)``.

    >>> import symgrad as sg
    >>> sg.hvp(lambda x: (x**3).sum())(sg.tensor([1., 2.]), sg.tensor([1., 0.]))
    tensor([6., 0.])
    """
    first = grad(fn, argnums)

    def along(*args: Any) -> Tensor:
        *xs, v = args
        g_leaves, g_tree = pytree.flatten(first(*xs))
        v_leaves, v_tree = pytree.flatten(v)
        if v_tree != g_tree or not g_leaves:
            name = argument_names(fn, len(xs))[grad_positions(argnums, len(xs))[0]]
            raise TypeError(
                f"hvp: v has structure {v_tree} but argument {name!r} has structure {g_tree}"
            )
        total = (g_leaves[0] * v_leaves[0]).sum()
        for g, t in zip(g_leaves[1:], v_leaves[1:], strict=True):
            total = total + (g * t).sum()
        return total

    return grad(along, argnums)


def jvp(fn: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(fn(*primals), J · tangents)``, as ``jax.jvp``: the derivative of ``fn`` at
    ``primals`` along ``tangents`` (one tangent per primal, of its structure and shapes;
    primals and results may be pytrees), as ``torch.func.jvp``.  It runs at once:
    each call traces ``fn`` again (nothing is kept between calls).

    >>> import numpy as np, symgrad as sg
    >>> sg.jvp(lambda x: x**3, (np.array([2.0]),), (np.array([1.0]),))
    (tensor([8.]), tensor([12.]))
    """
    if len(primals) != len(tangents):
        raise GradError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    names = argument_names(fn, len(primals))
    for name, p, t in zip(names, primals, tangents, strict=True):
        p_leaves, p_tree = pytree.flatten(p)
        t_leaves, t_tree = pytree.flatten(t)
        if p_tree != t_tree:
            raise TypeError(
                f"jvp: the tangent for argument {name!r} has structure {t_tree} but the "
                f"primal has structure {p_tree}"
            )
        for path, a, b in zip(pytree.leaf_paths(p_tree), p_leaves, t_leaves, strict=True):
            if as_tensor(a).shape != as_tensor(b).shape:
                raise GradError(
                    f"jvp: a tangent of shape {shape_str(as_tensor(b).shape)} for a primal of "
                    f"shape {shape_str(as_tensor(a).shape)} (argument {name!r}{path})"
                )
    count = len(primals)

    def body(*args: Any) -> tuple[Any, Any]:
        xs, ts = args[:count], args[count:]
        result = fn(*xs)
        outs, out_tree = _float_leaves(result, "jvp")
        x_leaves = [leaf for x in xs for leaf in pytree.flatten(x)[0]]
        t_leaves = [leaf for t in ts for leaf in pytree.flatten(t)[0]]
        # free cotangents: the result does not depend on them
        cotangents = [ir.Var(out.shape, out.dtype) for out in outs]
        vjps = autodiff.vjp(
            [leaf_var(o) for o in outs], cotangents, [leaf_var(x) for x in x_leaves]
        )
        total = None
        for g, t in zip(vjps, t_leaves, strict=True):
            if g is not None:
                term = (_traced(g, t) * t).sum()
                total = term if total is None else total + term
        if total is None:
            return result, pytree.unflatten(out_tree, [zeros_like(o) for o in outs])
        one = ir.elementwise(sympy.Integer(1), [], shape=(), dtype=total.dtype)
        along = autodiff.vjp([leaf_var(total)], [one], cotangents)
        tangent_out = [_traced(a, o) for a, o in zip(along, outs, strict=True)]
        return result, pytree.unflatten(out_tree, tangent_out)

    return CompiledFunction(body, "value")(*primals, *tangents)
