"""LayerNorm, BatchNorm1d/2d and F.layer_norm / F.batch_norm against PyTorch: values,
gradients, running statistics, modes, errors, and compiled steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

RNG = np.random.default_rng(3)


@pytest.mark.parametrize(
    ("shape", "normalized"),
    [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)), ((5,), 5), ((2, 1, 3), (1, 3))],
)
def test_f_layer_norm_matches_torch(shape, normalized, eager):
    norm_shape = (normalized,) if isinstance(normalized, int) else normalized
    eager(
        lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-3),
        lambda x, w, b: torch.nn.functional.layer_norm(x, norm_shape, w, b, eps=1e-3),
        RNG.standard_normal(shape) * 3 + 1,
        RNG.standard_normal(norm_shape),
        RNG.standard_normal(norm_shape),
    )


@pytest.mark.parametrize(("affine", "bias"), [(True, True), (True, False), (False, True)])
def test_layer_norm_module_matches_torch(affine, bias, eager):
    ref = torch.nn.LayerNorm((3, 4), eps=1e-4, elementwise_affine=affine, bias=bias).double()
    ours = sg.nn.LayerNorm((3, 4), eps=1e-4, elementwise_affine=affine, bias=bias)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for p in ref.parameters():
        torch.nn.init.normal_(p)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    eager(ours, ref, RNG.standard_normal((2, 3, 4)))
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(
            dict(ours.named_parameters())[name].grad.numpy(), p.grad.numpy(), rtol=1e-10
        )


def test_layer_norm_compiled_matches_torch(compiled):
    compiled(
        lambda x, w, b: F.layer_norm(x, (5,), w, b),
        lambda x, w, b: torch.nn.functional.layer_norm(x, (5,), w, b),
        RNG.standard_normal((3, 5)),
        RNG.standard_normal(5),
        RNG.standard_normal(5),
    )


def test_layer_norm_rejects_a_wrong_trailing_shape():
    with pytest.raises(sg.errors.ShapeError, match=r"LayerNorm.*\(2, 5\).*\(4,\)"):
        sg.nn.LayerNorm(4)(sg.zeros(2, 5))
    with pytest.raises(sg.errors.ShapeError, match="layer_norm"):
        F.layer_norm(sg.zeros(2, 5), (2,))


def _pair(cls, *args, **kwargs):
    ref = getattr(torch.nn, cls)(*args, **kwargs).double()
    ours = getattr(sg.nn, cls)(*args, **kwargs)
    with torch.no_grad():
        for p in ref.parameters():
            p.uniform_(0.5, 1.5)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    return ours, ref


def _assert_state_equal(ours, ref, rtol=1e-12):
    mine = ours.state_dict()
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(mine[name], value.numpy(), rtol=rtol, atol=1e-14)
        assert mine[name].dtype == value.numpy().dtype


@pytest.mark.parametrize(
    ("cls", "shape"),
    [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 5))],
)
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batch_norm_training_and_eval_match_torch(cls, shape, momentum, eager):
    ours, ref = _pair(cls, 3, momentum=momentum, eps=1e-3)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for _ in range(3):  # three training batches: values, grads and running statistics
        x = RNG.standard_normal(shape) * 2 + 0.5
        eager(ours, ref, x)
        _assert_state_equal(ours, ref)
        for name, p in ref.named_parameters():
            got = dict(ours.named_parameters())[name].grad.numpy()
            np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-10, atol=1e-12)
            p.grad = None
        ours.zero_grad()
    assert ours.num_batches_tracked.item() == 3
    ours.eval(), ref.eval()
    eager(ours, ref, RNG.standard_normal(shape))
    _assert_state_equal(ours, ref)  # eval mode leaves the running statistics alone


@pytest.mark.parametrize(
    ("affine", "track", "bias"),
    [(False, True, True), (True, False, True), (False, False, True), (True, True, False)],
)
def test_batch_norm_options_match_torch(affine, track, bias, eager):
    ours, ref = _pair("BatchNorm2d", 2, affine=affine, track_running_stats=track, bias=bias)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in ref.named_buffers()]
    eager(ours, ref, RNG.standard_normal((3, 2, 2, 2)))
    ours.eval(), ref.eval()  # without running statistics eval mode uses the batch's
    eager(ours, ref, RNG.standard_normal((3, 2, 2, 2)))
    _assert_state_equal(ours, ref)


def test_f_batch_norm_matches_torch_and_updates_the_running_stats(eager):
    x = RNG.standard_normal((5, 4, 3))
    ours_stats = [sg.tensor(RNG.standard_normal(4)), sg.tensor(RNG.random(4) + 0.5)]
    ref_stats = [torch.tensor(s.numpy().copy()) for s in ours_stats]
    eager(
        lambda x, w, b: F.batch_norm(x, *ours_stats, w, b, training=True, momentum=0.2),
        lambda x, w, b: torch.nn.functional.batch_norm(
            x, *ref_stats, w, b, training=True, momentum=0.2
        ),
        x,
        RNG.standard_normal(4),
        RNG.standard_normal(4),
    )
    for a, b in zip(ours_stats, ref_stats, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    eager(
        lambda x: F.batch_norm(x, *ours_stats),
        lambda x: torch.nn.functional.batch_norm(x, *ref_stats),
        x,
    )


def test_batch_norm_errors_name_the_layer_and_shapes():
    with pytest.raises(sg.errors.ShapeError, match=r"BatchNorm2d.*4D.*\(2, 3, 4\)"):
        sg.nn.BatchNorm2d(3)(sg.zeros(2, 3, 4))
    with pytest.raises(sg.errors.ShapeError, match=r"BatchNorm1d\(3\).*\(2, 5\)"):
        sg.nn.BatchNorm1d(3)(sg.zeros(2, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        sg.nn.BatchNorm1d(3)(sg.zeros(1, 3))
    sg.nn.BatchNorm1d(3).eval()(sg.zeros(1, 3))  # fine in eval mode, as in PyTorch


def test_torch_checkpoint_with_num_batches_tracked_loads():
    ref = torch.nn.BatchNorm1d(3).double()
    ref(torch.randn(6, 3, dtype=torch.float64))
    ref(torch.randn(6, 3, dtype=torch.float64))
    ours = sg.nn.BatchNorm1d(3)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    assert ours.num_batches_tracked.item() == 2
    assert ours.num_batches_tracked.dtype == np.int64
    _assert_state_equal(ours, ref)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_compiled_step_updates_batch_norm_buffers_like_torch(momentum):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, momentum=momentum), torch.nn.Linear(4, 1)
    ).double()
    ours = sg.nn.Sequential(
        sg.nn.Linear(3, 4), sg.nn.BatchNorm1d(4, momentum=momentum), sg.nn.Linear(4, 1)
    )
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    opt = sg.optim.SGD(ours.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)

    @sg.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(ours(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        x, y = RNG.standard_normal((8, 3)), RNG.standard_normal((8, 1))
        loss = step(x, y)
        ref_opt.zero_grad()
        ref_loss = torch.nn.functional.mse_loss(ref(torch.tensor(x)), torch.tensor(y))
        ref_loss.backward()
        ref_opt.step()
        np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-10)
    _assert_state_equal(ours, ref, rtol=1e-10)
    assert ours[1].num_batches_tracked.item() == 3
