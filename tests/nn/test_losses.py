"""Loss Modules against torch.nn's: values and input gradients in float64 (1e-10)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import symgrad as sg

RNG = np.random.default_rng(7)
N, C = 6, 4


def logits():
    return RNG.standard_normal((N, C)) * 3


def labels(ignore=None):
    y = RNG.integers(0, C, N)
    if ignore is not None:
        y[[1, 4]] = ignore
    return y


def probs(shape=(N, C)):
    return RNG.uniform(0.05, 0.95, shape)


def soft_targets():
    p = RNG.uniform(0.0, 1.0, (N, C))
    return p / p.sum(1, keepdims=True)


def log_probs():
    x = logits()
    return x - np.log(np.exp(x).sum(1, keepdims=True))


WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])

# (class name, constructor kwargs (arrays become tensors), input maker, target maker)
CASES = [
    ("MSELoss", {}, lambda: RNG.standard_normal((N, C)), lambda: RNG.standard_normal((N, C))),
    ("MSELoss", {"reduction": "sum"}, logits, logits),
    ("MSELoss", {"reduction": "none"}, logits, logits),
    ("L1Loss", {}, logits, logits),
    ("L1Loss", {"reduction": "sum"}, logits, logits),
    ("L1Loss", {"reduction": "none"}, logits, logits),
    ("CrossEntropyLoss", {}, logits, labels),
    ("CrossEntropyLoss", {"weight": WEIGHT}, logits, labels),
    ("CrossEntropyLoss", {"ignore_index": 2}, logits, lambda: labels(ignore=2)),
    ("CrossEntropyLoss", {"ignore_index": -1, "weight": WEIGHT}, logits, lambda: labels(-1)),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, logits, labels),
    ("CrossEntropyLoss", {"reduction": "sum"}, logits, labels),
    ("CrossEntropyLoss", {"reduction": "none"}, logits, labels),
    ("CrossEntropyLoss", {}, logits, soft_targets),
    ("CrossEntropyLoss", {"weight": WEIGHT, "label_smoothing": 0.2}, logits, soft_targets),
    ("NLLLoss", {}, log_probs, labels),
    ("NLLLoss", {"weight": WEIGHT}, log_probs, labels),
    ("NLLLoss", {"ignore_index": 0}, log_probs, lambda: labels(ignore=0)),
    ("NLLLoss", {"reduction": "none", "weight": WEIGHT}, log_probs, labels),
    ("BCELoss", {}, probs, lambda: RNG.integers(0, 2, (N, C)).astype(float)),
    ("BCELoss", {"weight": RNG.uniform(0.5, 2.0, C)}, probs, probs),
    ("BCELoss", {"reduction": "sum"}, probs, probs),
    ("BCEWithLogitsLoss", {}, logits, probs),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([1.0, 2.0, 0.5, 4.0])}, logits, probs),
    ("BCEWithLogitsLoss", {"weight": RNG.uniform(0.5, 2.0, (N, C))}, logits, probs),
    ("BCEWithLogitsLoss", {"reduction": "none", "pos_weight": WEIGHT}, logits, probs),
]


@pytest.mark.parametrize(("name", "kwargs", "make_input", "make_target"), CASES)
def test_loss_module_matches_torch(name, kwargs, make_input, make_target):
    x, y = make_input(), make_target()
    ours = getattr(sg.nn, name)(
        **{k: sg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    )
    theirs = getattr(torch.nn, name)(
        **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    )
    xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(xs, sg.tensor(y)), theirs(xt, torch.tensor(y))
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    up = RNG.standard_normal(out.shape)
    (out * sg.tensor(up)).sum().backward()
    (expected * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("CrossEntropyLoss", {"weight": WEIGHT}),
        ("NLLLoss", {}),
        ("BCELoss", {"weight": WEIGHT}),
        ("BCEWithLogitsLoss", {"pos_weight": WEIGHT}),
        ("BCEWithLogitsLoss", {"weight": WEIGHT, "pos_weight": WEIGHT}),
        ("MSELoss", {}),
    ],
)
def test_weights_are_buffers_like_torch(name, kwargs):
    ours = getattr(sg.nn, name)(**{k: sg.tensor(v) for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) for k, v in kwargs.items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.parameters()) == []
    ours.float()
    assert all(b.dtype == np.float32 for b in ours.buffers())


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_legacy_reduction_arguments_map_like_torch(size_average, reduce):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates these arguments
        theirs = torch.nn.MSELoss(size_average, reduce)
    assert sg.nn.MSELoss(size_average, reduce).reduction == theirs.reduction
    assert sg.nn.NLLLoss(None, size_average, -100, reduce).reduction == theirs.reduction


def test_loss_attributes_and_bad_reduction():
    loss = sg.nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.1, reduction="sum")
    assert (loss.ignore_index, loss.label_smoothing, loss.reduction) == (3, 0.1, "sum")
    assert loss.weight is None
    with pytest.raises(ValueError, match="reduction"):
        sg.nn.MSELoss(reduction="avg")(sg.ones(2), sg.ones(2))


def test_loss_in_a_training_step_matches_torch():
    sg.manual_seed(0)
    model = sg.nn.Sequential(sg.nn.Linear(C, 8), sg.nn.ReLU(), sg.nn.Linear(8, 3))
    ref = torch.nn.Sequential(torch.nn.Linear(C, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ref.double().load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    x, y = logits(), RNG.integers(0, 3, N)
    sg.nn.CrossEntropyLoss()(model(sg.tensor(x)), sg.tensor(y)).backward()
    torch.nn.CrossEntropyLoss()(ref(torch.tensor(x)), torch.tensor(y)).backward()
    for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, err_msg=name)
