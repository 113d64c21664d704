"""Convolution and pooling against PyTorch: F.conv1d/conv2d, max/avg/adaptive pooling, the
Conv/Pool modules (init, repr, padding modes), errors, and a compiled training step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

RNG = np.random.default_rng(5)
TF = torch.nn.functional

CONV2D_CASES = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"stride": (2, 1), "padding": (0, 2)},
    {"dilation": 2, "padding": 2},
    {"stride": (1, 3), "padding": (2, 1), "dilation": (2, 1)},
    {"groups": 2},
    {"groups": 4, "stride": 2, "padding": 1},
    {"padding": "same", "dilation": (1, 2)},
    {"padding": "valid", "groups": 2},
]


@pytest.mark.parametrize("kwargs", CONV2D_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(kwargs, bias, eager):
    groups = kwargs.get("groups", 1)
    x = RNG.standard_normal((2, 4, 7, 8))
    w = RNG.standard_normal((6 if groups != 4 else 8, 4 // groups, 3, 2))
    arrays = [x, w] + ([RNG.standard_normal(w.shape[0])] if bias else [])
    eager(
        lambda x, w, *b: F.conv2d(x, w, *b, **kwargs),
        lambda x, w, *b: TF.conv2d(x, w, *b, **kwargs),
        *arrays,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2, "padding": 2, "dilation": 2},
        {"groups": 3, "padding": 1},
        {"padding": "same"},
    ],
    ids=str,
)
def test_conv1d_matches_torch(kwargs, eager):
    groups = kwargs.get("groups", 1)
    eager(
        lambda x, w, b: F.conv1d(x, w, b, **kwargs),
        lambda x, w, b: TF.conv1d(x, w, b, **kwargs),
        RNG.standard_normal((3, 6, 11)),
        RNG.standard_normal((9, 6 // groups, 3)),
        RNG.standard_normal(9),
    )


def test_unbatched_conv_input_matches_torch(eager):
    eager(
        lambda x, w: F.conv2d(x, w, padding=1),
        lambda x, w: TF.conv2d(x, w, padding=1),
        RNG.standard_normal((3, 5, 5)),
        RNG.standard_normal((2, 3, 3, 3)),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": (2, 3), "stride": (1, 2), "dilation": (2, 1), "padding": (1, 1)},
        {"kernel_size": 3, "stride": 2, "ceil_mode": True},
        {"kernel_size": 2, "stride": 1},
    ],
    ids=str,
)
def test_max_pool2d_matches_torch(kwargs, eager):
    eager(
        lambda x: F.max_pool2d(x, **kwargs),
        lambda x: TF.max_pool2d(x, **kwargs),
        RNG.standard_normal((2, 3, 7, 8)),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
        {"kernel_size": (3, 2), "stride": 2, "padding": (1, 1), "ceil_mode": True},
        {
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "count_include_pad": False,
        },
        {"kernel_size": 2, "divisor_override": 3},
    ],
    ids=str,
)
def test_avg_pool2d_matches_torch(kwargs, eager):
    eager(
        lambda x: F.avg_pool2d(x, **kwargs),
        lambda x: TF.avg_pool2d(x, **kwargs),
        RNG.standard_normal((2, 3, 7, 8)),
    )


def test_pool1d_matches_torch(eager):
    x = RNG.standard_normal((2, 3, 9))
    eager(lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: TF.max_pool1d(x, 3, 2, 1), x)
    eager(lambda x: F.avg_pool1d(x, 3, 2, 1), lambda x: TF.avg_pool1d(x, 3, 2, 1), x)
    eager(lambda x: F.adaptive_avg_pool1d(x, 4), lambda x: TF.adaptive_avg_pool1d(x, 4), x)


@pytest.mark.parametrize("size", [1, (2, 4), (3, 4), (5, None), (4, 3), (7, 8)], ids=str)
def test_adaptive_avg_pool2d_matches_torch(size, eager):
    eager(
        lambda x: F.adaptive_avg_pool2d(x, size),
        lambda x: TF.adaptive_avg_pool2d(x, size),
        RNG.standard_normal((2, 3, 7, 8)),
    )


def test_conv_and_pool_compiled_match_torch(compiled):
    compiled(
        lambda x, w, b: F.max_pool2d(F.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2), 2),
        lambda x, w, b: TF.max_pool2d(TF.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2), 2),
        RNG.standard_normal((2, 4, 6, 7)),
        RNG.standard_normal((4, 2, 3, 3)),
        RNG.standard_normal(4),
    )
    compiled(
        lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        lambda x: TF.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        RNG.standard_normal((1, 2, 5, 5)),
    )


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_module_matches_torch(padding_mode, eager):
    kwargs = {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}
    ref = torch.nn.Conv2d(4, 6, (3, 2), padding_mode=padding_mode, **kwargs).double()
    ours = sg.nn.Conv2d(4, 6, (3, 2), padding_mode=padding_mode, **kwargs)
    assert repr(ours) == repr(ref)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    eager(ours, ref, RNG.standard_normal((2, 4, 6, 7)))
    for name, p in ref.named_parameters():
        got = dict(ours.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv1d_module_same_padding_and_repr_match_torch(eager):
    ref = torch.nn.Conv1d(3, 5, 4, padding="same", bias=False, padding_mode="replicate").double()
    ours = sg.nn.Conv1d(3, 5, 4, padding="same", bias=False, padding_mode="replicate")
    assert repr(ours) == repr(ref)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    eager(ours, ref, RNG.standard_normal((2, 3, 9)))


def test_conv_init_follows_torch_rule():
    sg.manual_seed(0)
    conv = sg.nn.Conv2d(8, 64, 3, groups=2)
    fan_in = 4 * 3 * 3
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives the same bound
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert w.shape == tuple(torch.nn.Conv2d(8, 64, 3, groups=2).weight.shape)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(b).max() <= bound


def test_pool_modules_match_torch(eager):
    x = RNG.standard_normal((2, 3, 9, 8))
    pairs = [
        ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
        ("AvgPool2d", ((2, 3),), {"padding": 1, "count_include_pad": False}),
        ("AdaptiveAvgPool2d", ((4, 3),), {}),
    ]
    for name, args, kwargs in pairs:
        ours, ref = getattr(sg.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(ours) == repr(ref)
        eager(ours, ref, x)
    x1 = RNG.standard_normal((2, 3, 9))
    for name in ("MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d"):
        eager(getattr(sg.nn, name)(3), getattr(torch.nn, name)(3), x1)


def test_conv_and_pool_errors_name_the_op_and_shapes():
    with pytest.raises(sg.errors.ShapeError, match=r"Conv2d\(3, 4\).*\(2, 5, 8, 8\)"):
        sg.nn.Conv2d(3, 4, 3)(sg.zeros(2, 5, 8, 8))
    with pytest.raises(sg.errors.ShapeError, match=r"conv2d.*\(2, 4, 8, 8\).*groups=3"):
        F.conv2d(sg.zeros(2, 4, 8, 8), sg.zeros(6, 2, 3, 3), groups=3)
    with pytest.raises(sg.errors.ShapeError, match="kernel size 5"):
        F.conv2d(sg.zeros(1, 1, 3, 3), sg.zeros(1, 1, 5, 5))
    with pytest.raises(sg.errors.ShapeError, match=r"max_pool2d.*\(8, 8\)"):
        F.max_pool2d(sg.zeros(8, 8), 2)
    with pytest.raises(sg.errors.ShapeError, match=r"max_pool2d: padding.*half of kernel size"):
        F.max_pool2d(sg.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ValueError, match="half of effective kernel size"):
        F.avg_pool2d(sg.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        sg.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        sg.nn.Conv2d(3, 4, 3, stride=2, padding="same")


def test_compiled_conv_net_training_step_matches_torch():
    def build(nn):
        return nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 4, 2, groups=2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(4, 1),
        )

    torch.manual_seed(0)
    ref = build(torch.nn).double()
    ours = build(sg.nn)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    opt = sg.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)

    @sg.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(ours(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        x, y = RNG.standard_normal((3, 2, 6, 6)), RNG.standard_normal((3, 1))
        loss = step(x, y)
        ref_opt.zero_grad()
        ref_loss = TF.mse_loss(ref(torch.tensor(x)), torch.tensor(y))
        ref_loss.backward()
        ref_opt.step()
        np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-10)
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-9, atol=1e-12)


def _conv_value_and_grads(kwargs):
    def loss(x, w):
        y = F.conv2d(x, w, **kwargs)
        return (y * y).sum()

    return sg.compile(sg.value_and_grad(loss, argnums=(0, 1)), tier="sync")


def _check_against_torch(step, kwargs, shape):
    x, w = RNG.standard_normal(shape), RNG.standard_normal((4, shape[1], 3, 3))
    value, (gx, gw) = step(x, w)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ref = (TF.conv2d(tx, tw, **kwargs) ** 2).sum()
    ref.backward()
    np.testing.assert_allclose(float(value), ref.item(), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(gx), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(gw), tw.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"padding": 2, "dilation": 2}], ids=str)
def test_compiled_conv_keeps_image_and_batch_sizes_symbolic(kwargs):
    step = _conv_value_and_grads(kwargs)
    for shape in ((2, 3, 8, 8), (2, 3, 11, 9), (2, 3, 8, 8), (5, 3, 8, 8)):
        _check_against_torch(step, kwargs, shape)
    assert step.trace_count() == 1


@pytest.mark.parametrize(
    "kwargs", [{"stride": 2, "padding": 1}, {"stride": (3, 2), "dilation": 2}], ids=str
)
def test_compiled_strided_conv_keeps_image_sizes_symbolic(kwargs):
    step = _conv_value_and_grads(kwargs)
    for shape in ((2, 3, 8, 8), (2, 3, 11, 9), (2, 3, 12, 13), (4, 3, 9, 8)):
        _check_against_torch(step, kwargs, shape)
    assert step.trace_count() == 1  # output sizes are floor divisions the kernel computes
