"""nn.Embedding and F.embedding against PyTorch: values, gradients (padding row kept at zero),
index shapes, errors, initialisation, and a compiled training step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("index_shape", [(), (5,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_f_embedding_values_and_grads_match_torch(index_shape, padding_idx, eager):
    weight = RNG.standard_normal((6, 3))
    index = RNG.integers(0, 6, index_shape)
    index.flat[:1] = 2 if padding_idx == 2 else 5  # make sure the padding row is used
    out = eager(
        lambda w: F.embedding(sg.tensor(index), w, padding_idx=padding_idx),
        lambda w: torch.nn.functional.embedding(torch.tensor(index), w, padding_idx=padding_idx),
        weight,
    )
    assert out.shape == (*index_shape, 3)


def test_padding_row_gets_no_gradient_even_when_not_zero():
    weight = RNG.standard_normal((4, 2))  # row 1 is not zero: only its gradient is dropped
    index = np.array([[1, 1, 3], [0, 1, 3]])
    w = sg.tensor(weight, requires_grad=True)
    out = F.embedding(sg.tensor(index), w, padding_idx=1)
    np.testing.assert_array_equal(out.numpy(), weight[index])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [0, 0], [0, 0], [2, 2]])


def test_embedding_module_matches_torch_after_loading_its_weights(eager):
    ref = torch.nn.Embedding(10, 4, padding_idx=0, dtype=torch.float64)
    ours = sg.nn.Embedding(10, 4, padding_idx=0)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    assert repr(ours) == repr(ref) == "Embedding(10, 4, padding_idx=0)"
    index = torch.tensor([[0, 3, 9], [3, 3, 0]])
    out, expected = ours(sg.tensor(index.numpy())), ref(index)
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    up = RNG.standard_normal(out.shape)
    (out * sg.tensor(up)).sum().backward()
    (expected * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-12)
    assert not ours.weight.grad.numpy()[0].any()


def test_embedding_init_is_standard_normal_with_a_zero_padding_row():
    sg.manual_seed(0)
    emb = sg.nn.Embedding(400, 50, padding_idx=-2)
    w = emb.weight.numpy()
    assert emb.padding_idx == 398 and emb.weight.requires_grad and w.dtype == np.float64
    assert not w[398].any()
    rest = np.delete(w, 398, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02
    ref = torch.nn.Embedding(400, 50, padding_idx=-2)
    assert ref.padding_idx == emb.padding_idx


def test_from_pretrained_freezes_by_default():
    table = sg.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = sg.nn.Embedding.from_pretrained(table)
    ref = torch.nn.Embedding.from_pretrained(torch.tensor(table.numpy()))
    assert not frozen.weight.requires_grad and not ref.weight.requires_grad
    assert sg.nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    np.testing.assert_array_equal(frozen(sg.tensor([1, 0])).numpy(), [[3, 4], [1, 2]])


def test_bad_indices_raise_clear_errors():
    emb = sg.nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        emb(sg.tensor([0, 5]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(sg.tensor([[-1]]))
    with pytest.raises(TypeError, match="integer"):
        emb(sg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        sg.nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(sg.errors.ShapeError, match=r"weight must be 2-D"):
        F.embedding(sg.tensor([0]), sg.zeros(3))


def test_f_embedding_compiled_matches_torch(compiled):
    index = RNG.integers(0, 7, (3, 4))
    compiled(
        lambda w, i: F.embedding(i, w, padding_idx=3),
        lambda w, i: torch.nn.functional.embedding(i, w, padding_idx=3),
        RNG.standard_normal((7, 5)),
        index,
    )


def _models(padding_idx=0):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(
        torch.nn.Embedding(12, 5, padding_idx=padding_idx),
        torch.nn.Flatten(),
        torch.nn.Linear(15, 2),
    ).double()
    ours = sg.nn.Sequential(
        sg.nn.Embedding(12, 5, padding_idx=padding_idx), sg.nn.Flatten(), sg.nn.Linear(15, 2)
    )
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    return ours, ref


def test_compiled_training_step_with_embedding_matches_torch():
    ours, ref = _models()
    opt = sg.optim.Adam(ours.parameters(), lr=0.05)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.05)

    @sg.compile
    def step(index, target):
        opt.zero_grad()
        loss = F.mse_loss(ours(index), target)
        loss.backward()
        opt.step()
        return loss

    for _ in range(4):
        index = RNG.integers(0, 12, (6, 3))
        index[0, 0] = 0  # the padding row is read, and must not move
        target = RNG.standard_normal((6, 2))
        loss = step(index, target)
        ref_opt.zero_grad()
        ref_loss = torch.nn.functional.mse_loss(ref(torch.tensor(index)), torch.tensor(target))
        ref_loss.backward()
        ref_opt.step()
        np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-10)
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-9, atol=1e-12)
    assert not ours[0].weight.numpy()[0].any()
    with pytest.raises(IndexError):
        step(np.full((6, 3), 12), target)
    with pytest.raises(IndexError):
        step(np.full((6, 3), -1), target)
