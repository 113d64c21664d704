"""save/load: .npz state dicts, order kept, nested optimizer-style state, no pickling."""

from __future__ import annotations

import io
from collections import OrderedDict

import numpy as np
import pytest
import torch

import symgrad as sg


def make_model():
    return sg.nn.Sequential(sg.nn.Linear(4, 8), sg.nn.ReLU(), sg.nn.Linear(8, 3, dtype=sg.float32))


def test_state_dict_round_trip(tmp_path):
    sg.manual_seed(0)
    model = make_model()
    path = tmp_path / "model.npz"
    sg.nn.save(model.state_dict(), path)
    state = sg.nn.load(path)
    assert isinstance(state, OrderedDict)
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for key, value in model.state_dict().items():
        assert state[key].dtype == value.dtype and state[key].shape == value.shape
        np.testing.assert_array_equal(state[key], value)
    fresh = make_model()
    x = sg.randn(5, 4)
    assert not np.allclose(fresh(x).numpy(), model(x).numpy())
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_file_is_a_plain_npz_at_the_given_path(tmp_path):
    path = tmp_path / "weights.bin"  # no suffix is added, as torch.save
    sg.nn.save({"b": sg.ones(2), "a": np.arange(3)}, str(path))
    assert path.exists() and not (tmp_path / "weights.bin.npz").exists()
    with np.load(path, allow_pickle=False) as data:
        assert data.files == ["b", "a"]
        np.testing.assert_array_equal(data["a"], [0, 1, 2])


def test_saved_torch_state_dict_loads_into_torch_and_symgrad(tmp_path):
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2, dtype=torch.float64)
    sg.nn.save({k: v.detach().numpy() for k, v in ref.state_dict().items()}, tmp_path / "t.npz")
    state = sg.nn.load(tmp_path / "t.npz")
    ours = sg.nn.Linear(3, 2)
    ours.load_state_dict(state)
    back = torch.nn.Linear(3, 2, dtype=torch.float64)
    back.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    x = np.random.default_rng(0).standard_normal((4, 3))
    expected = ref(torch.tensor(x)).detach().numpy()
    np.testing.assert_array_equal(back(torch.tensor(x)).detach().numpy(), expected)
    np.testing.assert_allclose(ours(sg.tensor(x)).numpy(), expected, rtol=1e-12)


def test_nested_optimizer_state_round_trip():
    state = {
        "state": {
            0: {"step": np.array(3.0), "exp_avg": np.ones((2, 2), np.float32)},
            1: {"step": sg.tensor(3.0), "exp_avg": sg.zeros(2)},
        },
        "param_groups": [
            {"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "x": None}
        ],
    }
    buffer = io.BytesIO()
    sg.nn.save(state, buffer)
    buffer.seek(0)
    loaded = sg.nn.load(buffer)
    assert list(loaded) == ["state", "param_groups"]
    assert list(loaded["state"]) == [0, 1]  # integer keys come back as integers
    np.testing.assert_array_equal(loaded["state"][0]["exp_avg"], np.ones((2, 2)))
    assert loaded["state"][0]["exp_avg"].dtype == np.float32
    assert loaded["state"][1]["step"].shape == () and float(loaded["state"][1]["step"]) == 3.0
    assert loaded["param_groups"] == [
        {"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "x": None}
    ]


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, code=np.array([print], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        sg.nn.load(path)


def test_save_refuses_what_it_cannot_store_without_pickling(tmp_path):
    with pytest.raises(TypeError, match="cannot store a function"):
        sg.nn.save({"f": lambda: 0}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="object arrays"):
        sg.nn.save({"o": np.array([{}], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="mapping"):
        sg.nn.save([np.zeros(1)], tmp_path / "x.npz")


def test_load_rejects_a_plain_npy(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(2))
    with pytest.raises(ValueError, match=r"\.npz"):
        sg.nn.load(path)
