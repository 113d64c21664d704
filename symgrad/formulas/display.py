"""Each IR node as a formula term, one rule per primitive (see :mod:`symgrad.formulas.terms`).

Matrix ops become SymPy's own objects (``x.T``, ``x*w``); reductions, slices and
joins become named ops (``sum(x, axis=1)``, ``x[1:]``, ``pad(g, (1, 0))``);
a primitive with no rule here is shown by its name and evaluated by its own NumPy
definition, so a new primitive never makes a formula fail.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> from symgrad.formulas.terms import leaf
    >>> x = ir.Var((4, 3), np.dtype("float64"))
    >>> node = ir.permute(x, (1, 0)).producer
    >>> node_term(node, [leaf("x", (4, 3))])
    x.T
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import sympy
from sympy.matrices.expressions.matexpr import MatrixExpr

from symgrad import ir
from symgrad.formulas.algebra import elementwise_term, iverson, matrix_product, scale
from symgrad.formulas.terms import (
    MatOp,
    Op,
    OpInfo,
    broadcast,
    dtype_name,
    is_boolean,
    is_matrix_rank,
    make_op,
    matrix_shape,
    scalar_source,
)
from symgrad.ir.primitives.indexing import SLICE, GatherParams, ScatterAddParams
from symgrad.ir.primitives.permute import PermuteParams
from symgrad.ir.primitives.slicing import slice_key

Rule = Callable[[ir.Node, list[sympy.Basic]], sympy.Basic]


def _info(node: ir.Node, name: str, params: object = None) -> OpInfo:
    return OpInfo(
        name,
        node.primitive.name,
        node.params if params is None else params,
        tuple(v.shape for v in node.inputs),
        tuple(dtype_name(v.dtype) for v in node.inputs),
        node.output.shape,
    )


def _numeric(term: sympy.Basic) -> sympy.Basic:
    return iverson(term) if is_boolean(term) else term


def _op(node: ir.Node, terms: list[sympy.Basic], name: str | None = None) -> sympy.Basic:
    return make_op(_info(node, name or node.primitive.name), *map(_numeric, terms))


def _elementwise(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    shapes = [v.shape for v in node.inputs]
    return elementwise_term(node.expr, terms, shapes, node.output.shape)


def _reduction(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    if not node.params.axes:
        return terms[0]
    value = scalar_source(terms[0])
    if value is not None and not is_boolean(value):  # the same value everywhere
        shape = node.inputs[0].shape
        count = math.prod(shape[a] for a in node.params.axes)
        total = value * count if node.primitive is ir.SUM else value
        return broadcast(total, (), node.output.shape)
    return _op(node, terms)


def _reshape(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    (term,) = terms
    source, target = node.inputs[0].shape, node.output.shape
    folded = _drop_kept_dims(term, target)
    if folded is not None:
        return folded
    if scalar_source(term) is not None:
        return broadcast(scalar_source(term), (), target)
    if is_matrix_rank(source) and is_matrix_rank(target):
        if matrix_shape(source) == matrix_shape(target):
            return term
        if matrix_shape(source) == matrix_shape(target)[::-1] and 1 in matrix_shape(source):
            return term.T
    if not target and isinstance(term, MatrixExpr):
        return Op(_info(node, "scalar"), term)
    return _op(node, terms)


def _drop_kept_dims(term: sympy.Basic, target: tuple) -> sympy.Basic | None:
    """A reduction with ``keepdim`` reshaped to drop the kept dims: the reduction without."""
    if not isinstance(term, Op | MatOp) or not isinstance(term.info.params, ir.ReduceParams):
        return None
    info = term.info
    if not info.params.keepdim:
        return None
    kept = tuple(n for d, n in enumerate(info.in_shapes[0]) if d not in info.params.axes)
    if kept != tuple(target):
        return None
    params = ir.ReduceParams(info.params.axes, keepdim=False)
    new = OpInfo(info.name, info.primitive, params, info.in_shapes, info.in_dtypes, kept)
    return make_op(new, *term.operands)


def _permute(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    (term,) = terms
    axes, source = node.params.axes, node.inputs[0].shape
    if isinstance(term, Op | MatOp) and term.info.name == "permute":  # one permute of two
        inner = term.info.params.axes
        axes, source, term = tuple(inner[a] for a in axes), term.info.in_shapes[0], term.operands[0]
    if axes == tuple(range(len(axes))):
        return term
    if len(axes) == 2 and isinstance(term, MatrixExpr):
        return term.T
    info = OpInfo(
        "permute",
        ir.PERMUTE.name,
        PermuteParams(axes),
        (tuple(source),),
        (dtype_name(node.inputs[0].dtype),),
        node.output.shape,
    )
    return make_op(info, _numeric(term))


def _matmul(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    a, b = node.inputs
    if a.ndim == b.ndim == 2:
        ta, tb = (_as_matrix(t, v.shape) for t, v in zip(terms, node.inputs, strict=True))
        if isinstance(ta, MatrixExpr) and isinstance(tb, MatrixExpr):
            return matrix_product(ta, tb)
    return _op(node, terms)


def _as_matrix(term: sympy.Basic, shape: tuple) -> sympy.Basic:
    """A matrix of one repeated value as that value times a matrix of ones."""
    value = scalar_source(term)
    if value is not None:
        return scale(value, sympy.OneMatrix(*matrix_shape(shape)))
    return term


def _gather(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    return _op(node, terms, "getitem")


def _scatter_add(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    key = node.params.key
    contiguous = len(node.inputs) == 1 and all(
        isinstance(item, tuple) and item[0] == SLICE and item[3] in (None, 1) for item in key
    )
    return _op(node, terms, "pad" if contiguous else "add_at")


def _slice(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    key = slice_key(node.params.region, node.inputs[0].shape)  # as written: x[1:], x[:-1]
    info = OpInfo("getitem", ir.GATHER.name, GatherParams(key), *_io(node))
    return make_op(info, *map(_numeric, terms))


def _slice_add(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    shape = node.params.shape
    padded = []
    for var, term, region in zip(node.inputs, terms, node.params.regions, strict=True):
        params = ScatterAddParams(slice_key(region, shape), shape)
        unit = all(step == 1 for _, step, _ in region)
        info = OpInfo(
            "pad" if unit else "add_at",
            ir.SCATTER_ADD.name,
            params,
            (var.shape,),
            (dtype_name(var.dtype),),
            node.output.shape,
        )
        padded.append(make_op(info, _numeric(term)))
    return sympy.Add(*padded)


def _io(node: ir.Node) -> tuple:
    return (
        tuple(v.shape for v in node.inputs),
        tuple(dtype_name(v.dtype) for v in node.inputs),
        node.output.shape,
    )


def _concat(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    return _op(node, terms, "cat")


def _iota(node: ir.Node, terms: list[sympy.Basic]) -> sympy.Basic:
    return _op(node, terms, "arange")


RULES: dict[ir.Primitive, Rule] = {
    ir.ELEMENTWISE: _elementwise,
    ir.SUM: _reduction,
    ir.MAX: _reduction,
    ir.MIN: _reduction,
    ir.RESHAPE: _reshape,
    ir.PERMUTE: _permute,
    ir.MATMUL: _matmul,
    ir.GATHER: _gather,
    ir.SCATTER_ADD: _scatter_add,
    ir.SLICE: _slice,
    ir.SLICE_ADD: _slice_add,
    ir.CONCAT: _concat,
    ir.IOTA: _iota,
}


def node_term(node: ir.Node, terms: Sequence[sympy.Basic]) -> sympy.Basic:
    """The formula term of ``node`` over its inputs' terms."""
    rule = RULES.get(node.primitive, _op)
    return rule(node, list(terms))
