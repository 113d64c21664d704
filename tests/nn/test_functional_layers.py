"""F.linear, F.pad and F.dropout against PyTorch (values, gradients, errors; dropout by its
statistics, eagerly and compiled)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

RNG = np.random.default_rng(29)
TF = torch.nn.functional


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,)])
def test_linear_matches_torch(shape, eager):
    eager(F.linear, TF.linear, RNG.standard_normal(shape), RNG.standard_normal((2, 3)))
    eager(
        F.linear,
        TF.linear,
        RNG.standard_normal(shape),
        RNG.standard_normal((2, 3)),
        RNG.standard_normal(2),
    )
    with pytest.raises(sg.errors.ShapeError, match="linear"):
        F.linear(sg.zeros(*shape), sg.zeros(2, 4))


@pytest.mark.parametrize(
    ("pad", "mode"),
    [
        ((1, 2), "constant"),
        ((1, 2, 0, 3), "constant"),
        ((-1, 2, 1, -2), "constant"),
        ((2, 1, 1, 2), "reflect"),
        ((2, 1, 1, 2), "replicate"),
        ((2, 1, 1, 2), "circular"),
        ((3, 0), "reflect"),
    ],
    ids=str,
)
def test_pad_matches_torch(pad, mode, eager):
    value = 1.5 if mode == "constant" else None
    eager(
        lambda x: F.pad(x, pad, mode=mode, value=value),
        lambda x: TF.pad(x, pad, mode=mode, value=value),
        RNG.standard_normal((2, 3, 4, 5) if len(pad) == 4 else (2, 3, 5)),
    )


def test_pad_compiled_matches_torch(compiled):
    compiled(
        lambda x: F.pad(F.pad(x, (1, 2, 2, 1), mode="reflect"), (1, 1), value=-2.0),
        lambda x: TF.pad(TF.pad(x, (1, 2, 2, 1), mode="reflect"), (1, 1), value=-2.0),
        RNG.standard_normal((1, 2, 4, 5)),
    )


def test_pad_rejects_what_torch_rejects():
    with pytest.raises(sg.errors.ShapeError, match="reflect"):
        F.pad(sg.zeros(1, 1, 3), (3, 0), mode="reflect")
    with pytest.raises(sg.errors.ShapeError, match="pairs"):
        F.pad(sg.zeros(2, 3), (1, 1, 1))
    with pytest.raises(ValueError, match="mode"):
        F.pad(sg.zeros(2, 3), (1, 1), mode="wrap")


def test_dropout_eval_and_statistics():
    x = sg.ones(20000)
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    sg.manual_seed(0)
    out = F.dropout(x, 0.3).numpy()
    assert set(np.unique(out)) == {0.0, 1 / 0.7}
    assert abs((out == 0).mean() - 0.3) < 0.02
    assert not F.dropout(x, 1.0).numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = sg.tensor(RNG.standard_normal(1000), requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    kept = out.numpy() != 0
    np.testing.assert_array_equal(x.grad.numpy(), np.where(kept, 2.0, 0.0))


def test_compiled_dropout_draws_a_new_mask_every_call():
    @sg.compile
    def f(x):
        return F.dropout(x, 0.5)

    x = np.ones(200)
    first, second = f(x).numpy(), f(x).numpy()
    assert set(np.unique(first)) == {0.0, 2.0} and not np.array_equal(first, second)
