"""The character transformer of examples/char_transformer.py against PyTorch.

The example's source is run twice: as written (symgrad) and with ``symgrad`` replaced by
``torch`` in its imports, so the test checks both that the code is a PyTorch program and
that symgrad computes what PyTorch computes with it. Both models get the same weights
(PyTorch's state_dict, as NumPy arrays); the loss and every parameter's gradient must
agree in float64, eagerly and in a compiled training step.

(Under the test session's ``SYMGRAD_COMPILE=sync`` the eager backward passes run as
kernels; the compiled training step runs on the interpreter tier rather than spend
minutes compiling its kernel.)
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

import symgrad as sg

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "char_transformer.py"
SIZES = {"block_size": 8, "n_embd": 16, "n_head": 4}
VOCAB = 11
RTOL, ATOL = 1e-10, 1e-12


def _example(library: str) -> types.ModuleType:
    source = EXAMPLE.read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    for line in imports:
        if "symgrad" in line:
            source = source.replace(line, line.replace("symgrad", library))
    module = types.ModuleType(f"char_transformer_{library}")
    with mock.patch.dict(os.environ):  # the example sets OPENBLAS_NUM_THREADS for itself
        exec(compile(source, str(EXAMPLE), "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def examples():
    return _example("symgrad"), _example("torch")


def _pair(examples, make):
    """The same module in PyTorch and symgrad, float64, with PyTorch's initial weights."""
    ours, theirs = examples
    torch.manual_seed(0)
    reference = make(theirs).double()
    state = {name: value.numpy() for name, value in reference.state_dict().items()}
    model = make(ours).double()
    model.load_state_dict({name: sg.tensor(value) for name, value in state.items()})
    return model, reference


def _check_grads(model, reference):
    theirs = dict(reference.named_parameters())
    names = [name for name, _ in model.named_parameters()]
    assert names == list(theirs)
    for name, p in model.named_parameters():
        expected = theirs[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=RTOL, atol=ATOL, err_msg=name)


def _block(module):
    return module.Block(SIZES["n_embd"], SIZES["n_head"], SIZES["block_size"])


def _model(module, n_layer=2):
    return module.CharTransformer(VOCAB, n_layer=n_layer, **SIZES)


def test_the_example_is_a_pytorch_program(examples):
    ours, theirs = examples
    assert ours.sg is sg and theirs.sg is torch
    assert theirs.nn is torch.nn and theirs.F is torch.nn.functional


def test_block_matches_torch(examples):
    block, reference = _pair(examples, _block)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, SIZES["block_size"], SIZES["n_embd"]))  # the whole context
    weights = rng.standard_normal(x.shape)  # loss = sum(block(x) * weights): every output counts
    xt = torch.tensor(x, requires_grad=True)
    expected = (reference(xt) * torch.tensor(weights)).sum()
    expected.backward()
    xs = sg.tensor(x, requires_grad=True)
    loss = (block(xs) * sg.tensor(weights)).sum()
    loss.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=RTOL)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    _check_grads(block, reference)


def _data(length, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, VOCAB, (4, length)), rng.integers(0, VOCAB, (4, length))


def test_model_loss_and_gradients_match_torch(examples):
    model, reference = _pair(examples, _model)
    idx, targets = _data(length=5)  # shorter than the context: the causal mask is sliced
    expected = reference(torch.tensor(idx), torch.tensor(targets))
    expected.backward()
    loss = model(sg.tensor(idx), sg.tensor(targets))
    loss.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=RTOL)
    _check_grads(model, reference)


def _compiled_steps(examples, lengths):
    """The example's step (zero_grad, loss, backward, AdamW step) traced into one function,
    run on batches of the given context lengths next to the same steps in PyTorch."""
    model, reference = _pair(examples, lambda m: _model(m, n_layer=1))
    optimizer = sg.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    torch_optimizer = torch.optim.AdamW(reference.parameters(), lr=1e-2, weight_decay=0.01)

    def train_step(x, y):
        optimizer.zero_grad()
        loss = model(x, y)
        loss.backward()
        optimizer.step()
        return loss

    step = sg.compile(train_step, tier="interpret")  # its kernel takes minutes to compile
    for seed, length in enumerate(lengths):
        idx, targets = _data(length, seed)
        torch_optimizer.zero_grad()
        expected = reference(torch.tensor(idx), torch.tensor(targets))
        expected.backward()
        torch_optimizer.step()
        loss = step(idx, targets)
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=RTOL)
        _check_grads(model, reference)
        for p, q in zip(model.parameters(), reference.parameters(), strict=True):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-9, atol=ATOL)
    return step


def test_compiled_training_step_matches_torch(examples):
    assert _compiled_steps(examples, [8, 8, 8]).trace_count() == 1


def test_compiled_training_step_takes_a_new_context_length(examples):
    # bias[:, :, :T, :T] slices with a traced size: each length gets its own trace
    assert _compiled_steps(examples, [8, 5, 8, 3]).trace_count() == 3
