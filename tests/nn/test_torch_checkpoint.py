"""A PyTorch model's state_dict, converted to NumPy arrays, loads into the same model written
with symgrad (Linear, Embedding, LayerNorm, Conv2d, BatchNorm with num_batches_tracked, a
ModuleList and a ModuleDict) and gives the same outputs, gradients and buffer updates."""

from __future__ import annotations

import numpy as np
import torch

import symgrad as sg

RNG = np.random.default_rng(23)


def build(nn, cat):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.image = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1),
                nn.BatchNorm2d(4),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(4, 6, 2, groups=2, bias=False),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
            )
            self.tokens = nn.ModuleDict(
                {"embed": nn.Embedding(20, 6, padding_idx=0), "norm": nn.LayerNorm(6)}
            )
            self.heads = nn.ModuleList([nn.Linear(12, 8), nn.BatchNorm1d(8), nn.Linear(8, 3)])

        def forward(self, image, tokens):
            text = self.tokens["norm"](self.tokens["embed"](tokens)).mean(1)
            h = cat([self.image(image), text], 1)
            for layer in self.heads:
                h = layer(h)
            return h

    return Net()


def _trained_torch_model():
    torch.manual_seed(0)
    ref = build(torch.nn, torch.cat).double()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(3):  # moves the weights and the BatchNorm statistics away from their init
        image, tokens = _batch()
        opt.zero_grad()
        ref(torch.tensor(image), torch.tensor(tokens)).square().mean().backward()
        opt.step()
    return ref


def _batch(n=4):
    return RNG.standard_normal((n, 3, 6, 6)), RNG.integers(0, 20, (n, 5))


def test_torch_state_dict_loads_and_gives_the_same_outputs():
    ref = _trained_torch_model()
    ours = build(sg.nn, sg.cat)
    state = {k: v.numpy() for k, v in ref.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    assert repr(ours.load_state_dict(state)) == "<All keys matched successfully>"
    for name, value in state.items():
        np.testing.assert_array_equal(ours.state_dict()[name], value)
    assert ours.heads[1].num_batches_tracked.item() == 3

    ours.eval(), ref.eval()
    image, tokens = _batch()
    out = ours(sg.tensor(image), sg.tensor(tokens))
    expected = ref(torch.tensor(image), torch.tensor(tokens))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)

    ours.train(), ref.train()  # training mode: batch statistics, gradients, buffer updates
    out = ours(sg.tensor(image), sg.tensor(tokens))
    expected = ref(torch.tensor(image), torch.tensor(tokens))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    (out * out).mean().backward()
    ref.zero_grad()  # its training loop left gradients behind
    expected.square().mean().backward()
    grads = dict(ours.named_parameters())
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(grads[name].grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-12, atol=1e-15)


def test_float32_torch_checkpoint_loads_into_a_float64_model():
    torch.manual_seed(1)
    ref = build(torch.nn, torch.cat).float().eval()  # a float32 checkpoint
    ours = build(sg.nn, sg.cat).eval()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    assert ours.heads[0].weight.dtype == np.float64
    assert ours.heads[1].num_batches_tracked.dtype == np.int64
    image, tokens = _batch(2)
    out = ours(sg.tensor(image), sg.tensor(tokens))
    expected = ref(torch.tensor(image, dtype=torch.float32), torch.tensor(tokens))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)
