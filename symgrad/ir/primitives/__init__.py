"""The structured primitives, one family per module; importing this registers them all."""

from symgrad.ir.primitives import concat, core, extremes, indexing, matmul, permute

__all__ = ["concat", "core", "extremes", "indexing", "matmul", "permute"]
