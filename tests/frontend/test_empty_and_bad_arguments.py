"""Zero-size batches flow through as in PyTorch; wrong arguments are TypeErrors naming them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.errors import ShapeError


def test_sum_over_an_empty_dim_tuple_reduces_everything_as_torch():
    x = np.arange(6.0).reshape(2, 3)
    assert sg.tensor(x).sum(dim=()).item() == torch.tensor(x).sum(dim=()).item() == 15.0


def test_sizes_must_be_integers():
    with pytest.raises(TypeError, match=r"sizes must be ints, got 2\.5"):
        sg.zeros(2.5)
    with pytest.raises(TypeError, match="sizes must be ints"):
        sg.ones(2, 3).reshape(3, 2.0)


@pytest.mark.parametrize(
    "index",
    [
        lambda m: m.tensor([True, False, True]),
        lambda m: (slice(None), m.tensor([True, False])),
        lambda m: (Ellipsis, m.tensor([True, False])),
    ],
    ids=["rows", "columns", "after ellipsis"],
)
def test_a_mask_of_the_wrong_length_is_an_index_error(index):
    x = np.arange(6.0).reshape(2, 3)
    with pytest.raises(IndexError, match="shape of the mask"):
        torch.tensor(x)[index(torch)]
    with pytest.raises(IndexError, match="shape of the mask"):
        sg.tensor(x)[index(sg)]


def test_masks_of_the_right_shape_still_select():
    x = np.arange(6.0).reshape(2, 3)
    cols = [True, False, True]
    np.testing.assert_array_equal(sg.tensor(x)[..., sg.tensor(cols)].numpy(), x[..., cols])
    np.testing.assert_array_equal(sg.tensor(x)[:, sg.tensor(cols)].numpy(), x[:, cols])


def test_a_non_number_bound_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="argument 'min' must be a number, not str"):
        sg.zeros(3).clamp(min="a")
    with pytest.raises(TypeError, match="argument 'max'"):
        sg.clamp(sg.zeros(3), 0.0, [])


EMPTY = {
    "softmax": (lambda m, x: m.softmax(x, 1), (0, 2)),
    "cross_entropy": (
        lambda m, x: m.nn.functional.cross_entropy(x, m.zeros(0, dtype=m.int64)),
        (0, 4),
    ),
    "amax over a non-empty dim": (lambda m, x: m.amax(x, dim=1), (0, 3)),
    "log_softmax then sum": (lambda m, x: m.log_softmax(x, 1).sum(), (0, 5)),
}


@pytest.mark.parametrize("case", EMPTY.values(), ids=EMPTY.keys())
def test_empty_batches_give_torch_results_in_both_modes(case):
    fn, shape = case
    torch_x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    expected = fn(torch, torch_x)
    ours = fn(sg, sg.zeros(*shape, requires_grad=True))
    assert ours.shape == tuple(expected.shape)
    np.testing.assert_array_equal(ours.numpy(), expected.detach().numpy())
    for tier in ("sync", "interpret"):
        compiled = sg.compile(lambda x, fn=fn: fn(sg, x), tier=tier)(np.zeros(shape))
        np.testing.assert_array_equal(compiled.numpy(), expected.detach().numpy())


def test_an_extreme_over_a_dim_of_size_zero_has_no_value():
    with pytest.raises(ShapeError, match="dim of size 0"):
        sg.zeros(0, 3).amax(dim=0)
    with pytest.raises(ShapeError, match="dim of size 0"):
        sg.zeros(0).max()


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda x: sg.functional.leaky_relu(x, "a"), "negative_slope"),
        (lambda x: sg.functional.softplus(x, beta=None), "beta"),
        (lambda x: sg.functional.softplus(x, threshold="20"), "threshold"),
    ],
)
def test_non_number_activation_parameters_are_type_errors(call, parameter):
    with pytest.raises(TypeError, match=f"argument '{parameter}' must be a number"):
        call(sg.zeros(3))
