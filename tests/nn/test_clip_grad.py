"""nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils, eagerly and inside a
compiled training step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

RNG = np.random.default_rng(13)


def _with_grads(shapes=((3, 4), (4,), (2, 2, 2)), frozen_last=True):
    """The same parameters and gradients in both libraries (the last one without a grad)."""
    arrays = [RNG.standard_normal(s) for s in shapes]
    grads = [RNG.standard_normal(s) * 3 for s in shapes]
    ours = [sg.nn.Parameter(sg.tensor(a)) for a in arrays]
    ref = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for k, (p, q, g) in enumerate(zip(ours, ref, grads, strict=True)):
        if frozen_last and k == len(shapes) - 1:
            continue
        p.grad, q.grad = sg.tensor(g), torch.tensor(g)
    return ours, ref


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, 0.5, -math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, ref = _with_grads()
    total = sg.nn.utils.clip_grad_norm_((p for p in ours), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type=norm_type)
    assert isinstance(total, sg.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q in zip(ours, ref, strict=True):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_of_one_tensor_and_of_nothing():
    ours, ref = _with_grads(((5,),), frozen_last=False)
    total = sg.nn.utils.clip_grad_norm_(ours[0], 1.0)
    expected = torch.nn.utils.clip_grad_norm_(ref[0], 1.0)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(ours[0].grad.numpy(), ref[0].grad.numpy(), rtol=1e-12)
    nothing = sg.nn.utils.clip_grad_norm_([sg.nn.Parameter(sg.ones(2))], 1.0)
    assert nothing.item() == torch.nn.utils.clip_grad_norm_([torch.ones(2)], 1.0).item() == 0.0


def test_get_total_norm_and_nonfinite_error():
    tensors = [RNG.standard_normal(3), RNG.standard_normal((2, 2))]
    np.testing.assert_allclose(
        sg.nn.utils.get_total_norm([sg.tensor(t) for t in tensors], 3.0).item(),
        torch.nn.utils.get_total_norm([torch.tensor(t) for t in tensors], 3.0).item(),
        rtol=1e-12,
    )
    w = sg.nn.Parameter(sg.ones(2))
    w.grad = sg.tensor([1.0, math.inf])
    with pytest.raises(RuntimeError, match="non-finite"):
        sg.nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("clip_value", [0.5, 2.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, ref = _with_grads()
    sg.nn.utils.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(ref, clip_value)
    for p, q in zip(ours, ref, strict=True):
        if q.grad is not None:
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clipping_inside_a_compiled_step_matches_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ref = ref.double()
    ours = sg.nn.Sequential(sg.nn.Linear(3, 8), sg.nn.Tanh(), sg.nn.Linear(8, 2))
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    opt = sg.optim.SGD(ours.parameters(), lr=0.5, momentum=0.5)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.5, momentum=0.5)

    @sg.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(ours(x), y)
        loss.backward()
        sg.nn.utils.clip_grad_value_(ours.parameters(), 0.4)
        norm = sg.nn.utils.clip_grad_norm_(ours.parameters(), 0.3)
        opt.step()
        return loss, norm

    for _ in range(4):
        x, y = RNG.standard_normal((16, 3)), RNG.standard_normal((16, 2)) * 4
        loss, norm = step(x, y)
        ref_opt.zero_grad()
        ref_loss = _torch_mse(ref, x, y)
        ref_loss.backward()
        torch.nn.utils.clip_grad_value_(ref.parameters(), 0.4)
        ref_norm = torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.3)
        ref_opt.step()
        np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-10)
        np.testing.assert_allclose(norm.item(), ref_norm.item(), rtol=1e-10)
        assert ref_norm.item() > 0.3  # the clipping really happened
        for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-14)
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-10)
    assert step.trace_count() <= 2


def _torch_mse(model, x, y):
    return torch.nn.functional.mse_loss(model(torch.tensor(x)), torch.tensor(y))
