"""F.scaled_dot_product_attention against PyTorch's: masks, causal, scale, shapes, dropout,
eagerly and compiled."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

RNG = np.random.default_rng(11)
TF = torch.nn.functional


def _qkv(batch=(2, 3), length=5, source=6, embed=4, value_dim=7):
    return (
        RNG.standard_normal((*batch, length, embed)),
        RNG.standard_normal((*batch, source, embed)),
        RNG.standard_normal((*batch, source, value_dim)),
    )


@pytest.mark.parametrize(
    "kwargs", [{}, {"is_causal": True}, {"scale": 0.3}, {"is_causal": True, "scale": 2.0}]
)
def test_sdpa_matches_torch(kwargs, eager):
    eager(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kwargs),
        *_qkv(),
    )


@pytest.mark.parametrize("batch", [(), (3,), (2, 1, 2)])
def test_sdpa_batch_shapes_match_torch(batch, eager):
    out = eager(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, *_qkv(batch))
    assert out.shape == (*batch, 5, 7)


@pytest.mark.parametrize("mask_shape", [(5, 6), (2, 1, 5, 6), (2, 3, 5, 6)])
def test_sdpa_boolean_and_float_masks_match_torch(mask_shape, eager):
    keep = RNG.random(mask_shape) > 0.4
    keep[..., 0] = True  # every query sees at least one key (else softmax is nan)
    eager(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=sg.tensor(keep)),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(keep)),
        *_qkv(),
    )
    eager(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
        *_qkv(),
        RNG.standard_normal(mask_shape),
    )


def test_sdpa_compiled_matches_torch(compiled):
    keep = RNG.random((5, 6)) > 0.3
    keep[:, 0] = True
    compiled(  # the mask is an argument of the compiled function (a kernel input)
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
        *_qkv(batch=(2,)),
        keep,
    )
    compiled(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
        *_qkv(batch=(2,)),
    )


def test_sdpa_dropout_keeps_the_expectation():
    q, k, v = (sg.tensor(a) for a in _qkv(batch=(), length=4, source=4, value_dim=1))
    v = sg.ones(4, 1)
    sg.manual_seed(0)
    outs = np.stack(
        [F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy() for _ in range(2000)]
    )
    assert outs.std(axis=0).min() > 0.1  # the masks differ from call to call
    np.testing.assert_allclose(outs.mean(axis=0), 1.0, atol=0.05)  # softmax rows sum to 1


def test_sdpa_rejects_bad_shapes_and_options():
    q, k, v = (sg.tensor(a) for a in _qkv())
    with pytest.raises(sg.errors.ShapeError, match=r"scaled_dot_product_attention.*\(2, 3, 4, 7\)"):
        F.scaled_dot_product_attention(q, k, v[..., :4, :])
    with pytest.raises(sg.errors.ShapeError):
        F.scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=sg.ones(5, 6), is_causal=True)
