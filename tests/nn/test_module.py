"""Module: registration, walking the tree, modes, dtype conversion, state dicts, repr.

The same model code is built with ``sg.nn`` and ``torch.nn`` and compared.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import symgrad as sg


def make_net(nn, param):
    """A nested model written once for both libraries: ``param(*shape)`` makes a Parameter."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(8, 4)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = param(4)
            self.block = Block()
            self.head = nn.Sequential(nn.Linear(4, 2), nn.Tanh(), nn.Dropout(0.25))
            self.scale = param(1)

        def forward(self, x):
            return self.head(self.block(x * self.embed)) * self.scale

    return Net()


def sg_net():
    return make_net(sg.nn, lambda *s: sg.nn.Parameter(sg.randn(*s)))


def torch_net():
    return make_net(torch.nn, lambda *s: torch.nn.Parameter(torch.randn(*s, dtype=torch.float64)))


def test_named_parameters_order_and_names_match_torch():
    names = [n for n, _ in sg_net().named_parameters()]
    assert names == [n for n, _ in torch_net().named_parameters()]
    assert names == [
        "embed",
        "scale",
        "block.fc1.weight",
        "block.fc1.bias",
        "block.fc2.weight",
        "block.fc2.bias",
        "head.0.weight",
        "head.0.bias",
    ]


def test_named_modules_children_and_state_dict_keys_match_torch():
    ours, theirs = sg_net(), torch_net()
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.modules()] == [
        type(m).__name__ for m in theirs.modules()
    ]
    assert [type(m).__name__ for m in ours.children()] == ["Block", "Sequential"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["embed", "scale"]
    assert next(ours.block.named_parameters(prefix="b"))[0] == "b.fc1.weight"


def test_parameters_are_the_registered_objects():
    net = sg_net()
    params = list(net.parameters())
    assert params[0] is net.embed and params[2] is net.block.fc1.weight
    assert all(isinstance(p, sg.nn.Parameter) for p in params)
    assert sum(p.numel() for p in params) == sum(p.numel() for p in torch_net().parameters())


def test_shared_parameter_yielded_once_but_saved_under_both_names():
    for nn, net in ((sg.nn, sg_net()), (torch.nn, torch_net())):
        net.extra = nn.Linear(8, 4)
        net.extra.weight = net.block.fc2.weight  # tied
        names = [n for n, _ in net.named_parameters()]
        assert "extra.weight" not in names and "extra.bias" in names
        assert len(list(net.parameters())) == len(names) == 9
        assert "extra.weight" in net.state_dict()
    shared = sg.nn.Linear(2, 2)
    twice = sg.nn.Sequential(shared, sg.nn.ReLU(), shared)
    assert [n for n, _ in twice.named_parameters()] == ["0.weight", "0.bias"]
    assert list(twice.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in twice.named_modules()] == ["", "0", "1"]


def test_reassignment_keeps_position_and_deletion_unregisters():
    net = sg_net()
    new = sg.nn.Parameter(sg.zeros(4))
    net.embed = new
    assert next(net.parameters()) is new
    net.scale = None  # allowed, as in PyTorch: the slot stays, empty
    assert "scale" not in [n for n, _ in net.named_parameters()]
    assert net.scale is None and "scale" not in net.state_dict()
    del net.block
    assert [n for n, _ in net.named_children()] == ["head"]
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'block'"):
        _ = net.block
    net.block = sg.nn.Identity()  # a new child goes to the end
    assert [n for n, _ in net.named_children()] == ["head", "block"]


def test_assignment_type_errors_as_in_torch():
    net = sg_net()
    with pytest.raises(TypeError, match="as parameter 'embed'"):
        net.embed = sg.zeros(4)
    with pytest.raises(TypeError, match="as module 'head'"):
        net.head = 3
    with pytest.raises(KeyError, match=r'contain "\."'):
        net.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        net.register_parameter("forward", None)

    class Early(sg.nn.Module):
        def __init__(self):
            self.w = sg.nn.Parameter(sg.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()


def test_plain_attributes_and_tensors_are_not_registered():
    net = sg.nn.Module()
    net.note = "hi"
    net.constant = sg.ones(2)  # a plain Tensor is an ordinary attribute, as in torch
    assert list(net.parameters()) == [] and list(net.state_dict()) == []
    assert net.note == "hi"
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        net(1)


def test_buffers_follow_torch_rules():
    results = []
    for lib, make in ((sg, sg.zeros), (torch, torch.zeros)):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("running", make(2))
        m.register_buffer("scratch", make(3), persistent=False)
        m.register_buffer("empty", None)
        results.append(
            (list(m.state_dict()), [n for n, _ in m.named_buffers()], len(list(m.buffers())))
        )
    assert results[0] == results[1]
    m = sg.nn.Linear(2, 2)
    m.register_buffer("running", sg.zeros(2))
    m.running = sg.ones(2)  # re-assigning a buffer keeps it a buffer
    np.testing.assert_array_equal(m.state_dict()["running"], [1.0, 1.0])
    with pytest.raises(TypeError, match="as buffer 'running'"):
        m.running = [1.0, 2.0]


def test_train_eval_propagate_to_children():
    net = sg_net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.block.train()
    assert [m.training for m in net.modules()] == [False, True, True, True, True] + [False] * 4
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_apply_visits_children_first_like_torch():
    seen = {}
    for key, net in (("sg", sg_net()), ("torch", torch_net())):
        seen[key] = []
        assert net.apply(lambda m, s=seen[key]: s.append(type(m).__name__)) is net
    assert seen["sg"] == seen["torch"]
    assert seen["sg"][-1] == "Net"


def test_zero_grad_set_to_none_and_in_place():
    net = sg.nn.Linear(3, 2)
    x = sg.randn(4, 3)
    net(x).sum().backward()
    grad = net.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.weight.grad is grad and not grad.numpy().any()
    net(x).sum().backward()  # accumulates into the zeroed buffer
    np.testing.assert_allclose(grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-12)
    net.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_inside_a_compiled_step(set_to_none):
    sg.manual_seed(0)
    model = sg.nn.Linear(3, 2)
    x = sg.randn(4, 3)
    model(x).sum().backward()  # the gradients exist before the step is traced

    @sg.compile
    def step(x):
        model.zero_grad(set_to_none=set_to_none)
        loss = model(x).sum()
        loss.backward()
        return loss

    for _ in range(3):
        step(x)
    expected = np.tile(x.numpy().sum(0), (2, 1))  # one step's gradient, not three
    np.testing.assert_allclose(model.weight.grad.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(model.bias.grad.numpy(), [4.0, 4.0], rtol=1e-12)


def test_float_double_convert_in_place_and_training_continues():
    net = sg_net()
    x = sg.randn(5, 4)
    net(x).sum().backward()  # gradients exist (float64) and leaf values are cached
    before = list(net.parameters())
    arrays = [p.numpy().copy() for p in before]
    assert net.float() is net
    after = list(net.parameters())
    assert all(a is b for a, b in zip(before, after, strict=True))
    assert {p.dtype for p in after} == {np.dtype(np.float32)}
    assert {p.grad.dtype for p in after} == {np.dtype(np.float32)}
    assert all(p.requires_grad and p.is_leaf for p in after)
    for p, a in zip(after, arrays, strict=True):
        np.testing.assert_array_equal(p.numpy(), a.astype(np.float32))
    out = net(x.float())
    assert out.dtype == np.float32
    out.sum().backward()  # accumulates into the converted float32 grads
    assert net.embed.grad.dtype == np.float32
    net.to(sg.float64)
    assert [p.dtype for p in net.parameters()] == [np.dtype(np.float64)] * 8
    assert net.double().to("cpu") is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(sg.int64)


def test_to_keeps_integer_buffers():
    m = sg.nn.Linear(2, 2)
    m.register_buffer("count", sg.tensor([1, 2]))
    m.float()
    assert m.count.dtype == np.int64 and m.weight.dtype == np.float32


def test_state_dict_is_a_copy():
    net = sg.nn.Linear(3, 2)
    state = net.state_dict()
    assert isinstance(state, OrderedDict) and all(isinstance(v, np.ndarray) for v in state.values())
    state["weight"][...] = 0
    assert net.weight.numpy().any()
    assert net.state_dict(keep_vars=True)["weight"] is net.weight


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_load_torch_linear_state_dict_gives_torch_outputs(dtype):
    torch.manual_seed(0)
    ref = torch.nn.Linear(5, 3, dtype=dtype)
    ours = sg.nn.Linear(5, 3, dtype=str(dtype).removeprefix("torch."))
    weight = ours.weight
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert ours.weight is weight  # loaded in place
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(str(dtype).removeprefix("torch."))
    expected = ref(torch.from_numpy(x)).detach().numpy()
    got = ours(sg.tensor(x)).numpy()
    assert got.dtype == expected.dtype
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def test_load_state_dict_accepts_tensors_and_converts_dtype_in_place():
    src = sg.nn.Linear(3, 2)
    dst = sg.nn.Linear(3, 2).float()
    array = dst.weight.numpy()
    dst.load_state_dict(src.state_dict(keep_vars=True))
    assert dst.weight.numpy() is array and array.dtype == np.float32
    np.testing.assert_array_equal(array, src.weight.numpy().astype(np.float32))


def test_load_state_dict_errors_name_the_keys_and_shapes():
    net = sg.nn.Linear(4, 3)
    good = net.state_dict()
    before = net.weight.numpy().copy()
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        net.load_state_dict({"weight": good["weight"]})
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "extra"'):
        net.load_state_dict({**good, "extra": np.zeros(1)})
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict({"weight": np.zeros((4, 3)), "bias": good["bias"]})
    message = str(info.value)
    assert "size mismatch for weight" in message and "(4, 3)" in message and "(3, 4)" in message
    assert message.startswith("Error(s) in loading state_dict for Linear")
    np.testing.assert_array_equal(net.weight.numpy(), before)  # nothing was changed
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        net.load_state_dict({"bias": np.zeros(2)}, strict=False)  # shapes always checked
    result = net.load_state_dict({"weight": np.ones((3, 4)), "junk": np.ones(1)}, strict=False)
    assert result == (["bias"], ["junk"])
    assert net.weight.numpy().tolist() == np.ones((3, 4)).tolist()
    assert repr(net.load_state_dict(good)) == "<All keys matched successfully>"


def test_sequential_repr_matches_torch():
    ours = sg.nn.Sequential(sg.nn.Linear(4, 16), sg.nn.ReLU())
    assert repr(ours) == (
        "Sequential(\n  (0): Linear(in_features=4, out_features=16, bias=True)\n  (1): ReLU()\n)"
    )
    assert repr(sg_net()) == repr(torch_net())


def test_extra_repr_and_empty_module_repr():
    class Scaled(sg.nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k
            self.inner = sg.nn.Linear(1, 1, bias=False)

        def extra_repr(self):
            return f"k={self.k}"

    assert repr(sg.nn.Module()) == "Module()"
    assert repr(Scaled(2)) == (
        "Scaled(\n  k=2\n  (inner): Linear(in_features=1, out_features=1, bias=False)\n)"
    )


def test_get_submodule_and_requires_grad_():
    net = sg_net()
    assert net.get_submodule("block.fc2") is net.block.fc2
    with pytest.raises(AttributeError, match="no submodule `nope`"):
        net.get_submodule("block.nope")
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_deepcopy_gives_an_independent_model():
    net = sg.nn.Linear(3, 2)
    clone = copy.deepcopy(net)
    assert clone.weight is not net.weight
    clone.weight.numpy()[...] = 0
    assert net.weight.numpy().any()
    assert isinstance(clone.weight, sg.nn.Parameter) and clone.weight.requires_grad


class MyLinear(sg.nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = sg.nn.Parameter(sg.randn(in_features, out_features))
        self.bias = sg.nn.Parameter(sg.randn(out_features))

    def forward(self, x):
        return x @ self.weights + self.bias


class TorchMyLinear(torch.nn.Module):
    def __init__(self, weights, bias):
        super().__init__()
        self.weights = torch.nn.Parameter(torch.tensor(weights))
        self.bias = torch.nn.Parameter(torch.tensor(bias))

    def forward(self, x):
        return x @ self.weights + self.bias


def test_tutorial_custom_layer_matches_torch():
    sg.manual_seed(3)
    model = MyLinear(4, 3)
    assert [n for n, _ in model.named_parameters()] == ["weights", "bias"]
    ref = TorchMyLinear(model.weights.numpy().copy(), model.bias.numpy().copy())
    x = np.random.default_rng(0).standard_normal((2, 4))
    out = model(sg.tensor(x))
    expected = ref(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    (out**2).sum().backward()
    (expected**2).sum().backward()
    np.testing.assert_allclose(model.weights.grad.numpy(), ref.weights.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(model.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-10)
