"""The structured primitives, one family per module; importing this registers them all.

A new module of primitives is added to this import line.
"""

from symgrad.ir.primitives import (  # noqa: F401
    concat,
    conv,
    core,
    extremes,
    indexing,
    matmul,
    permute,
    pooling,
    slicing,
)
