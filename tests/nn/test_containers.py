"""Containers and module utilities against torch.nn: ModuleList, ModuleDict, ParameterList,
ParameterDict, register_buffer, named_modules, apply, Unflatten; and that
``import symgrad.nn.functional as F`` works."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import symgrad as sg


def test_nn_functional_imports_as_a_module_with_the_functional_api():
    F = importlib.import_module("symgrad.nn.functional")
    import symgrad.nn.functional as F2
    from symgrad.nn.functional import conv2d, relu

    assert F is F2 is sg.nn.functional
    assert conv2d is F.conv2d is sg.functional.conv2d and relu is F.relu is sg.functional.relu
    assert F.__file__.endswith("nn/functional.py")
    assert sorted(F.__all__) == sorted(sg.functional.__all__)
    for name in F.__all__:
        assert getattr(F, name) is getattr(sg.functional, name)
    torch_names = set(dir(torch.nn.functional))
    for name in ("relu", "softmax", "cross_entropy", "embedding", "layer_norm", "batch_norm"):
        assert name in F.__all__ and name in torch_names
    for name in ("conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"):
        assert name in F.__all__ and name in torch_names
    assert {"scaled_dot_product_attention", "linear", "dropout", "pad"} <= set(F.__all__)


def _names(module):
    return [type(m).__name__ for m in module]


@pytest.mark.parametrize("nn", [sg.nn, torch.nn], ids=["sg", "torch"])
def test_module_list_behaves_like_torch(nn):
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    layers.append(nn.Sigmoid())
    layers.extend([nn.Identity()])
    layers.insert(1, nn.Flatten())
    assert _names(layers) == ["ReLU", "Flatten", "Tanh", "Sigmoid", "Identity"]
    assert len(layers) == 5 and type(layers[-1]).__name__ == "Identity"
    sliced = layers[1:4]
    assert isinstance(sliced, nn.ModuleList) and _names(sliced) == ["Flatten", "Tanh", "Sigmoid"]
    layers[0] = nn.SiLU()
    del layers[1]
    assert _names(layers) == ["SiLU", "Tanh", "Sigmoid", "Identity"]
    assert [name for name, _ in layers.named_children()] == ["0", "1", "2", "3"]
    assert type(layers.pop(0)).__name__ == "SiLU"
    layers += [nn.ReLU()]
    assert _names(layers + nn.ModuleList([nn.Tanh()])) == [
        "Tanh",
        "Sigmoid",
        "Identity",
        "ReLU",
        "Tanh",
    ]
    with pytest.raises(IndexError):
        layers[10]
    with pytest.raises(TypeError):
        layers.extend(nn.ReLU())
    with pytest.raises(TypeError):
        layers.append(3)


def test_module_list_registers_parameters_and_prints_like_torch():
    sg.manual_seed(0)
    ours = sg.nn.ModuleList([sg.nn.Linear(2, 3) for _ in range(3)] + [sg.nn.ReLU()])
    ref = torch.nn.ModuleList([torch.nn.Linear(2, 3) for _ in range(3)] + [torch.nn.ReLU()])
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(ours) == repr(ref)
    assert repr(sg.nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


@pytest.mark.parametrize("nn", [sg.nn, torch.nn], ids=["sg", "torch"])
def test_module_dict_behaves_like_torch(nn):
    heads = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    heads["c"] = nn.Tanh()
    heads.update([("d", nn.Sigmoid())])
    assert list(heads) == ["a", "b", "c", "d"] and len(heads) == 4
    assert "c" in heads and "z" not in heads
    assert [k for k, _ in heads.items()] == list(heads.keys())
    assert type(heads.pop("b")).__name__ == "ReLU"
    del heads["c"]
    assert list(heads.keys()) == ["a", "d"]
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(KeyError):
        heads["x.y"] = nn.ReLU()
    heads.clear()
    assert len(heads) == 0


def test_module_dict_repr_matches_torch():
    ours = sg.nn.ModuleDict({"fc": sg.nn.Linear(2, 3), "act": sg.nn.ReLU()})
    ref = torch.nn.ModuleDict({"fc": torch.nn.Linear(2, 3), "act": torch.nn.ReLU()})
    assert repr(ours) == repr(ref)


def test_parameter_list_and_dict_match_torch():
    arrays = [np.ones((2, 3)), np.zeros(4)]
    ours = sg.nn.ParameterList([sg.tensor(a) for a in arrays])
    ref = torch.nn.ParameterList([torch.tensor(a) for a in arrays])
    ours.append(sg.nn.Parameter(sg.ones(1)))
    ref.append(torch.nn.Parameter(torch.ones(1, dtype=torch.float64)))
    assert len(ours) == len(ref) == 3
    assert all(isinstance(p, sg.nn.Parameter) and p.requires_grad for p in ours)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [p.shape for p in ours[1:]] == [tuple(p.shape) for p in ref[1:]]
    assert repr(ours).replace("float64", "torch.float64") == repr(ref)
    with pytest.raises(RuntimeError):
        ours()

    d_ours = sg.nn.ParameterDict({"w": sg.ones(2)})
    d_ref = torch.nn.ParameterDict({"w": torch.ones(2, dtype=torch.float64)})
    d_ours["b"], d_ref["b"] = sg.zeros(3), torch.zeros(3, dtype=torch.float64)
    assert list(d_ours) == list(d_ref) == ["w", "b"]
    assert [n for n, _ in d_ours.named_parameters()] == [n for n, _ in d_ref.named_parameters()]
    assert d_ours.pop("w").shape == (2,) and tuple(d_ref.pop("w").shape) == (2,)
    assert list(d_ours.keys()) == list(d_ref.keys()) == ["b"]
    assert "b" in d_ours and "w" not in d_ours
    assert repr(d_ours) == "ParameterDict(  (b): Parameter containing: [float64 of size 3])"


def _with_buffers(nn, tensor):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.register_buffer("kept", tensor([1.0, 2.0]))
            self.register_buffer("scratch", tensor([3.0]), persistent=False)
            self.register_buffer("empty", None)

        def forward(self, x):
            return self.fc(x) * self.kept

    return M()


def test_register_buffer_persistence_and_walks_match_torch():
    ours = _with_buffers(sg.nn, sg.tensor)
    ref = _with_buffers(torch.nn, lambda v: torch.tensor(v, dtype=torch.float64))
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["kept", "fc.weight", "fc.bias"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in ref.named_modules()] == ["", "fc"]
    assert ours.scratch.tolist() == [3.0] and ours.empty is None
    ours.double()  # buffers follow dtype conversion; non-persistent ones too
    ours.float()
    assert ours.kept.dtype == np.float32 and ours.scratch.dtype == np.float32


def test_named_modules_and_apply_visit_in_torch_order():
    def build(nn):
        shared = nn.Linear(2, 2)
        return nn.Sequential(shared, nn.Sequential(nn.ReLU(), shared), nn.ModuleList([nn.Tanh()]))

    ours, ref = build(sg.nn), build(torch.nn)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == [
        n for n, _ in ref.named_modules(remove_duplicate=False)
    ]
    assert [n for n, _ in ours.named_modules(prefix="m")] == [
        n for n, _ in ref.named_modules(prefix="m")
    ]
    seen_ours, seen_ref = [], []
    assert ours.apply(lambda m: seen_ours.append(type(m).__name__)) is ours
    ref.apply(lambda m: seen_ref.append(type(m).__name__))
    assert seen_ours == seen_ref

    def init_linear(m):
        if isinstance(m, sg.nn.Linear):
            sg.nn.init.constant_(m.weight, 0.5)

    ours.apply(init_linear)
    assert (ours[0].weight.numpy() == 0.5).all()


@pytest.mark.parametrize(
    ("dim", "sizes", "shape"),
    [
        (1, (2, 5), (3, 10)),
        (-1, (2, -1), (4, 3, 6)),
        (0, (1, 4), (4, 2)),
        (1, (2, 2, 2), (1, 8, 1)),
    ],
)
def test_unflatten_matches_torch(dim, sizes, shape, eager):
    x = np.random.default_rng(0).standard_normal(shape)
    out = eager(sg.nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), x)
    assert repr(sg.nn.Unflatten(dim, sizes)) == repr(torch.nn.Unflatten(dim, sizes))
    assert out.ndim == len(shape) + len(sizes) - 1


def test_unflatten_rejects_sizes_that_do_not_fit():
    with pytest.raises(sg.errors.ShapeError, match=r"Unflatten.*\(3, 10\)"):
        sg.nn.Unflatten(1, (3, 4))(sg.zeros(3, 10))
    with pytest.raises(TypeError):
        sg.nn.Unflatten(1, 5)
