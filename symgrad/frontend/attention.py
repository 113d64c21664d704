"""``scaled_dot_product_attention`` as PyTorch's reference writes it, from symgrad's own
ops (it traces, differentiates and fuses like user code).

Example:
    >>> import symgrad as sg
    >>> scaled_dot_product_attention(sg.ones(1, 2, 2), sg.ones(1, 2, 2), sg.ones(1, 2, 3)).shape
    (1, 2, 3)
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.errors import ShapeError, UnsupportedOpError, shape_str
from symgrad.frontend import shape_ops
from symgrad.frontend.apply import as_tensor, elementwise
from symgrad.frontend.nn_functional import dropout
from symgrad.frontend.softmax import softmax
from symgrad.frontend.tensor import Tensor


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(q @ k.T * scale + mask) @ v`` over the last two dims, as PyTorch's
    reference: a boolean ``attn_mask`` keeps the ``True`` entries, a float one is added;
    ``is_causal`` masks the upper triangle; ``scale`` defaults to ``1/sqrt(E)``.

    >>> import symgrad as sg
    >>> q, v = sg.ones(2, 3, 4), sg.arange(6.0).reshape(1, 3, 2)
    >>> scaled_dot_product_attention(q, q, v, is_causal=True)[0]
    tensor([[0., 1.],
            [1., 2.],
            [2., 3.]])
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention: query {shape_str(q.shape)}, key "
            f"{shape_str(k.shape)} and value {shape_str(v.shape)} do not fit (..., L, E), "
            "(..., S, E), (..., S, Ev)"
        )
    if enable_gqa:
        raise UnsupportedOpError("scaled_dot_product_attention: enable_gqa is not supported")
    if is_causal and attn_mask is not None:
        raise ValueError(
            "scaled_dot_product_attention: explicit attn_mask should not be set when is_causal=True"
        )
    factor = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = shape_ops.matmul(q, shape_ops.transpose(k, -2, -1)) * factor
    if is_causal:
        attn_mask = Tensor(np.tril(np.ones((q.shape[-2], k.shape[-2]), np.bool_)))
    if attn_mask is not None:
        mask = as_tensor(attn_mask)
        if mask.dtype == np.bool_:
            scores = elementwise("where", mask, scores, -math.inf)
        else:
            scores = scores + mask
    weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return shape_ops.matmul(weights, v)
