"""The IR: an SSA graph whose elementwise work is SymPy expressions, and the primitive registry.

``graph`` holds :class:`Var`, :class:`Node` and :class:`Graph`; ``primitive`` the
:class:`Primitive` base and the registry; ``primitives/`` one module per family of
structured ops; ``elementwise_ops`` the table of elementwise ops; ``shapes`` the
shape arithmetic of the shape rules.

Example:
    >>> import numpy as np
    >>> x = Var((3,), np.dtype('float64'))
    >>> print(Graph([x], [reduce_sum(elementwise(arg(0) ** 2, [x]), (0,), False)]).pretty(["x"]))
    { lambda x:f64[3] .
      let t0:f64[3] = x**2
          t1:f64[] = sum[(0,), False] t0
      in (t1) }
"""

from symgrad.ir.graph import Graph, Node, Var, arg, expr_key, structure_key, toposort
from symgrad.ir.primitive import PRIMITIVES, Primitive, Schedule, register
from symgrad.ir.primitives.concat import CONCAT, concat
from symgrad.ir.primitives.conv import (
    CONV,
    CONV_INPUT_GRAD,
    CONV_WEIGHT_GRAD,
    ConvParams,
    conv,
    conv_input_grad,
    conv_weight_grad,
)
from symgrad.ir.primitives.core import (
    CAST,
    ELEMENTWISE,
    PLAIN,
    RESHAPE,
    STOP_GRADIENT,
    SUM,
    ElementwiseParams,
    ReduceParams,
    ReshapeParams,
    broadcast_to,
    elementwise,
    expand_reduced,
    reduce_sum,
    reshape,
    unbroadcast,
)
from symgrad.ir.primitives.extremes import ARGMAX, ARGMIN, MAX, MIN, ArgParams
from symgrad.ir.primitives.indexing import GATHER, SCATTER_ADD, gather, scatter_add
from symgrad.ir.primitives.iota import IOTA, IotaParams, iota
from symgrad.ir.primitives.matmul import MATMUL, matmul
from symgrad.ir.primitives.permute import PERMUTE, permute
from symgrad.ir.primitives.pooling import (
    MAX_POOL,
    MAX_POOL_GRAD,
    MAX_POOL_INDICES,
    MAX_POOL_PICK,
    PoolParams,
    max_pool,
    max_pool_grad,
    max_pool_indices,
    max_pool_pick,
)
from symgrad.ir.primitives.slicing import (
    SLICE,
    SLICE_ADD,
    SliceAddParams,
    SliceParams,
    slice_add,
    strided_slice,
)

__all__ = [
    "ARGMAX",
    "ARGMIN",
    "CAST",
    "CONCAT",
    "CONV",
    "CONV_INPUT_GRAD",
    "CONV_WEIGHT_GRAD",
    "ELEMENTWISE",
    "GATHER",
    "IOTA",
    "MATMUL",
    "MAX",
    "MAX_POOL",
    "MAX_POOL_GRAD",
    "MAX_POOL_INDICES",
    "MAX_POOL_PICK",
    "MIN",
    "PERMUTE",
    "PLAIN",
    "PRIMITIVES",
    "RESHAPE",
    "SCATTER_ADD",
    "SLICE",
    "SLICE_ADD",
    "STOP_GRADIENT",
    "SUM",
    "ArgParams",
    "ConvParams",
    "ElementwiseParams",
    "Graph",
    "IotaParams",
    "Node",
    "PoolParams",
    "Primitive",
    "ReduceParams",
    "ReshapeParams",
    "Schedule",
    "SliceAddParams",
    "SliceParams",
    "Var",
    "arg",
    "broadcast_to",
    "concat",
    "conv",
    "conv_input_grad",
    "conv_weight_grad",
    "elementwise",
    "expand_reduced",
    "expr_key",
    "gather",
    "iota",
    "matmul",
    "max_pool",
    "max_pool_grad",
    "max_pool_indices",
    "max_pool_pick",
    "permute",
    "reduce_sum",
    "register",
    "reshape",
    "scatter_add",
    "slice_add",
    "strided_slice",
    "structure_key",
    "toposort",
    "unbroadcast",
]
