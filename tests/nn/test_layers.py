"""Layers against torch.nn: Linear (init, forward, grads), Sequential, activations, Dropout."""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import symgrad as sg

RNG = np.random.default_rng(42)


def torch_linear(ours: sg.nn.Linear) -> torch.nn.Linear:
    ref = torch.nn.Linear(
        ours.in_features, ours.out_features, bias=ours.bias is not None, dtype=torch.float64
    )
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ref


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_and_grads_match_torch(shape, bias):
    ours = sg.nn.Linear(5, 3, bias=bias)
    ref = torch_linear(ours)
    x = RNG.standard_normal(shape)
    up = RNG.standard_normal((*shape[:-1], 3))
    xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(xs), ref(xt)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    (out * sg.tensor(up)).sum().backward()
    (expected * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    if bias:
        np.testing.assert_allclose(ours.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-10)
    else:
        assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]


@pytest.mark.parametrize(("fan_in", "fan_out"), [(25, 400), (7, 300), (300, 3)])
def test_linear_default_init_follows_torch_rule(fan_in, fan_out):
    torch.manual_seed(0)
    sg.manual_seed(0)
    ref = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
    ours = sg.nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    for name, ref_param in ref.named_parameters():
        w, t = getattr(ours, name).numpy(), ref_param.detach().numpy()
        assert w.shape == t.shape and w.dtype == np.float64
        for values in (w, t):  # torch's weights obey the same bound: the rule is the same
            assert np.abs(values).max() <= bound
            if values.size >= 300:
                assert np.abs(values).max() > 0.95 * bound
                assert abs(values.std() - bound / math.sqrt(3)) < 0.1 * bound
        if w.size >= 300:
            assert abs(w.std() - t.std()) < 0.1 * bound


def test_linear_init_is_reproducible_and_dtype():
    sg.manual_seed(7)
    a = sg.nn.Linear(3, 4)
    sg.manual_seed(7)
    b = sg.nn.Linear(3, 4)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(a.weight.numpy(), sg.nn.Linear(3, 4).weight.numpy())
    c = sg.nn.Linear(3, 4, dtype=sg.float32)
    assert c.weight.dtype == c.bias.dtype == np.float32
    assert c(sg.ones(2, 3, dtype=sg.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="CPU"):
        sg.nn.Linear(3, 4, device="cuda")


def test_sequential_indexing_len_iter_append_match_torch():
    def build(nn):
        return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())

    ours, theirs = build(sg.nn), build(torch.nn)
    assert len(ours) == len(theirs) == 4
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert ours[-1] is list(ours)[3] and type(ours[1]) is sg.nn.ReLU
    sliced = ours[1:3]
    assert type(sliced) is sg.nn.Sequential and sliced[0] is ours[1]
    assert repr(sliced) == repr(theirs[1:3])
    with pytest.raises(IndexError, match="index 4 is out of range"):
        ours[4]
    for seq, nn in ((ours, sg.nn), (theirs, torch.nn)):
        seq.append(nn.Tanh())
        del seq[1]
        seq.insert(0, nn.Identity())
        seq[2] = nn.GELU()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    popped = ours.pop(0)
    assert type(popped) is sg.nn.Identity and len(ours) == 4
    assert ours.extend([sg.nn.ReLU()]) is ours and len(ours) == 5


def test_sequential_from_ordered_dict_and_forward():
    sg.manual_seed(0)
    fc = sg.nn.Linear(3, 2)
    model = sg.nn.Sequential(OrderedDict([("fc", fc), ("act", sg.nn.Tanh())]))
    assert model.fc is fc and [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    x = RNG.standard_normal((4, 3))
    expected = np.tanh(x @ fc.weight.numpy().T + fc.bias.numpy())
    np.testing.assert_allclose(model(sg.tensor(x)).numpy(), expected, rtol=1e-12)
    assert repr(model) == (
        "Sequential(\n  (fc): Linear(in_features=3, out_features=2, bias=True)\n  (act): Tanh()\n)"
    )


ACTIVATIONS = [
    ("ReLU", (), {}),
    ("Tanh", (), {}),
    ("Sigmoid", (), {}),
    ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}),
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2,), {}),
    ("Softmax", (), {"dim": 1}),
    ("Softmax", (), {"dim": 0}),
    ("Softmax", (), {}),
    ("LogSoftmax", (), {"dim": -1}),
    ("LogSoftmax", (), {}),
    ("Flatten", (), {}),
    ("Flatten", (0, 1), {}),
    ("Identity", (), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), ACTIVATIONS)
def test_activation_modules_match_torch(name, args, kwargs):
    ours = getattr(sg.nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = RNG.standard_normal((3, 4, 2))
    x[0, 0, 0] = 0.0
    up = None
    xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about the implicit softmax dim
        expected = theirs(xt)
    out = ours(xs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    if name == "Identity":
        assert out is xs
        return
    up = RNG.standard_normal(out.shape)
    (out * sg.tensor(up)).sum().backward()
    (expected * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_activation_reprs_with_options_match_torch():
    for name, kwargs in [
        ("ReLU", {"inplace": True}),
        ("SiLU", {"inplace": True}),
        ("LeakyReLU", {"negative_slope": 0.3, "inplace": True}),
        ("Dropout", {"p": 0.1, "inplace": True}),
        ("Flatten", {"start_dim": 2, "end_dim": 3}),
    ]:
        assert repr(getattr(sg.nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))


def test_dropout_eval_is_identity():
    drop = sg.nn.Dropout(0.5).eval()
    x = sg.randn(10, 10)
    assert drop(x) is x
    assert sg.nn.Dropout(0.0)(x) is x  # p == 0 is a no-op in training too
    assert repr(drop) == repr(torch.nn.Dropout(0.5)) == "Dropout(p=0.5, inplace=False)"


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_training_zeros_about_p_and_scales_the_rest(p):
    sg.manual_seed(0)
    x = sg.tensor(RNG.uniform(1.0, 2.0, (200, 500)))
    out = sg.nn.Dropout(p)(x).numpy()
    zeros = out == 0
    assert abs(zeros.mean() - p) < 0.01  # 100k draws: the standard error is below 0.0016
    np.testing.assert_allclose(out[~zeros], x.numpy()[~zeros] / (1 - p), rtol=1e-15)


def test_dropout_is_reproducible_under_manual_seed_and_keeps_dtype():
    drop = sg.nn.Dropout(0.5)
    x = sg.ones(1000, dtype=sg.float32)
    sg.manual_seed(123)
    a = drop(x).numpy()
    b = drop(x).numpy()
    sg.manual_seed(123)
    np.testing.assert_array_equal(drop(x).numpy(), a)
    assert not np.array_equal(a, b)  # a fresh mask every call
    assert a.dtype == np.float32 and set(np.unique(a)) == {0.0, 2.0}


def test_dropout_p_one_and_invalid_p():
    x = sg.randn(4, 4)
    assert not sg.nn.Dropout(1.0)(x).numpy().any()
    assert not torch.nn.Dropout(1.0)(torch.randn(4, 4)).any()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            sg.nn.Dropout(p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            torch.nn.Dropout(p)


def test_dropout_gradient_is_the_scaled_mask():
    sg.manual_seed(0)
    x = sg.randn(50, 40, requires_grad=True)
    out = sg.nn.Dropout(0.3)(x)
    out.sum().backward()
    mask = (out.numpy() != 0) / 0.7
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-15)


def test_dropout_in_a_compiled_model():
    sg.manual_seed(0)
    drop = sg.nn.Dropout(0.5)
    compiled = sg.compile(lambda x: drop(x))
    x = np.ones((200,))
    first, second = compiled(x).numpy(), compiled(x).numpy()
    assert set(np.unique(first)) == {0.0, 2.0} and set(np.unique(second)) == {0.0, 2.0}
    assert not np.array_equal(first, second)  # a fresh mask at every call
    assert 60 < (first == 0).sum() < 140
    sg.manual_seed(5)  # the same seed gives the compiled and the eager call the same mask
    compiled_mask = sg.compile(lambda x: drop(x))(x).numpy()
    sg.manual_seed(5)
    np.testing.assert_array_equal(compiled_mask, drop(sg.tensor(x)).numpy())
    expected = (np.random.default_rng(5).random(200) >= 0.5) * 2.0
    np.testing.assert_array_equal(compiled_mask, expected)
    model = sg.nn.Sequential(sg.nn.Linear(3, 4), sg.nn.Dropout(0.5), sg.nn.Linear(4, 1))
    model.eval()
    x = sg.randn(2, 3)
    np.testing.assert_allclose(
        sg.compile(lambda x: model(x))(x).numpy(), model(x).numpy(), rtol=1e-12
    )
