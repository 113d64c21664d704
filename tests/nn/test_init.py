"""nn.init against torch.nn.init: gains, fans, and the statistics of each initialiser."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.nn import init

SHAPES = [(300, 200), (64, 16, 3, 3)]


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("leaky_relu", 3),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_errors_match_torch():
    for args in (("swish",), ("leaky_relu", "x"), ("leaky_relu", True)):
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain(*args)
        with pytest.raises(ValueError):
            init.calculate_gain(*args)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (2, 6, 4), (5, 0)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(sg.zeros(shape)) == expected


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(sg.zeros(5))


def compare_stats(fill_ours, fill_torch, shape, std, uniform):
    """The same initialiser in both libraries on a large tensor: both have the expected
    std (and, when uniform, the bound ``sqrt(3) * std``)."""
    sg.manual_seed(0)
    torch.manual_seed(0)
    ours = fill_ours(sg.zeros(shape)).numpy()
    theirs = fill_torch(torch.empty(shape, dtype=torch.float64)).numpy()
    for values in (ours, theirs):
        assert values.std() == pytest.approx(std, rel=0.05)
        assert abs(values.mean()) < 0.05 * std
        if uniform:
            assert np.abs(values).max() <= math.sqrt(3) * std
            assert np.abs(values).max() > 0.99 * math.sqrt(3) * std


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_matches_torch(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(sg.zeros(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    compare_stats(
        lambda t: init.xavier_uniform_(t, gain),
        lambda t: torch.nn.init.xavier_uniform_(t, gain),
        shape,
        std,
        uniform=True,
    )
    compare_stats(
        lambda t: init.xavier_normal_(t, gain),
        lambda t: torch.nn.init.xavier_normal_(t, gain),
        shape,
        std,
        uniform=False,
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("a", "mode", "nonlinearity"),
    [
        (0, "fan_in", "leaky_relu"),
        (math.sqrt(5), "fan_in", "leaky_relu"),
        (0, "fan_out", "relu"),
        (0.1, "FAN_OUT", "tanh"),
    ],
)
def test_kaiming_matches_torch(shape, a, mode, nonlinearity):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(sg.zeros(shape))
    fan = fan_in if mode.lower() == "fan_in" else fan_out
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    compare_stats(
        lambda t: init.kaiming_uniform_(t, a, mode, nonlinearity),
        lambda t: torch.nn.init.kaiming_uniform_(t, a, mode, nonlinearity),
        shape,
        std,
        uniform=True,
    )
    compare_stats(
        lambda t: init.kaiming_normal_(t, a, mode, nonlinearity),
        lambda t: torch.nn.init.kaiming_normal_(t, a, mode, nonlinearity),
        shape,
        std,
        uniform=False,
    )


def test_kaiming_uniform_sqrt5_bound_is_one_over_sqrt_fan_in():
    sg.manual_seed(0)
    w = init.kaiming_uniform_(sg.zeros(500, 40), a=math.sqrt(5))
    assert np.abs(w.numpy()).max() <= 1 / math.sqrt(40)
    assert np.abs(w.numpy()).max() > 0.99 / math.sqrt(40)


def test_uniform_and_normal_statistics():
    sg.manual_seed(0)
    u = init.uniform_(sg.zeros(100_000), -3.0, 5.0).numpy()
    assert u.min() >= -3.0 and u.max() < 5.0
    assert u.mean() == pytest.approx(1.0, abs=0.05)
    assert u.std() == pytest.approx(8 / math.sqrt(12), rel=0.02)
    n = init.normal_(sg.zeros(100_000), 2.0, 0.5).numpy()
    assert n.mean() == pytest.approx(2.0, abs=0.01) and n.std() == pytest.approx(0.5, rel=0.02)


def test_constant_fills_are_exact_and_in_place():
    t = sg.randn(3, 2)
    array = t.numpy()
    for fill, value in (
        (init.zeros_, 0.0),
        (init.ones_, 1.0),
        (lambda x: init.constant_(x, -2.5), -2.5),
    ):
        assert fill(t) is t and t.numpy() is array
        assert (array == value).all()


def test_init_fills_parameters_in_place_and_keeps_float32():
    p = sg.nn.Parameter(sg.zeros(50, 60, dtype=sg.float32))
    array = p.numpy()
    assert init.kaiming_normal_(p) is p
    assert p.numpy() is array and array.dtype == np.float32 and array.any()
    assert p.is_leaf and p.requires_grad


def test_seeded_and_explicit_generators():
    sg.manual_seed(5)
    a = init.normal_(sg.zeros(10)).numpy().copy()
    sg.manual_seed(5)
    b = init.normal_(sg.zeros(10)).numpy()
    np.testing.assert_array_equal(a, b)
    c = init.uniform_(sg.zeros(10), generator=np.random.default_rng(1)).numpy()
    np.testing.assert_array_equal(c, np.random.default_rng(1).uniform(0.0, 1.0, 10))


def test_kaiming_on_empty_tensor_warns_and_bad_mode_raises():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(sg.zeros(0, 3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(sg.zeros(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        torch.nn.init.kaiming_normal_(torch.zeros(3, 3), mode="fan_avg")
