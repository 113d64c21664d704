"""``symgrad.utils.data`` against ``torch.utils.data``: batches, collation, lengths, splits."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import symgrad as sg
import symgrad.utils.data as sdata
from symgrad.utils.data import DataLoader, TensorDataset


@pytest.fixture(autouse=True)
def torch_float64():
    """symgrad's default dtype is float64: compare with torch under the same default."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def assert_same(ours, theirs):
    """The same nesting, container types, dtypes and values (symgrad vs torch batches)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, sg.Tensor), type(ours)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for key in theirs:
            assert_same(ours[key], theirs[key])
    elif isinstance(theirs, list | tuple):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_same(a, b)
    else:
        assert ours == theirs


X = np.arange(20.0).reshape(10, 2)
Y = np.arange(10) % 3


def _tensor_datasets():
    return (
        TensorDataset(sg.tensor(X), sg.tensor(Y)),
        tdata.TensorDataset(torch.tensor(X), torch.tensor(Y)),
    )


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 12])
@pytest.mark.parametrize("drop_last", [False, True])
def test_tensor_dataset_batches_and_lengths_match_torch(batch_size, drop_last):
    ours, theirs = _tensor_datasets()
    a = DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    b = tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b) and len(ours) == len(theirs)
    assert_same(list(a), list(b))


def test_tensor_dataset_items_and_size_check():
    ours, theirs = _tensor_datasets()
    assert_same(ours[3], theirs[3])
    assert_same(list(ours[1:3]), list(theirs[1:3]))
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(sg.zeros(3), sg.zeros(4))


class Records(sdata.Dataset):
    """Samples of many kinds, the same for both libraries except the tensor type."""

    Pair = collections.namedtuple("Pair", "a b")

    def __init__(self, lib, n=5):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {
            "tensor": self.lib.tensor([float(i), -float(i)]),
            "array": np.full((2, 2), i, dtype=np.float32),
            "int": i,
            "float": i / 2,
            "bool": i % 2 == 0,
            "numpy_number": np.int64(i),
            "name": f"s{i}",
            "tuple": (i, float(i)),
            "list": [i, [i + 1, i + 2]],
            "pair": Records.Pair(i, np.float64(i)),
        }


@pytest.mark.parametrize("batch_size", [2, 5])
def test_default_collate_matches_torch_for_every_kind_of_sample(batch_size):
    ours = list(DataLoader(Records(sg), batch_size=batch_size))
    theirs = list(tdata.DataLoader(Records(torch), batch_size=batch_size))
    assert_same(ours, theirs)


def test_float_default_dtype_does_not_change_collated_floats():
    sg.set_default_dtype(sg.float32)
    torch.set_default_dtype(torch.float32)
    try:
        assert_same(sdata.default_collate([1.5, 2.5]), tdata.default_collate([1.5, 2.5]))
    finally:
        sg.set_default_dtype(sg.float64)


def test_no_batching_converts_arrays_as_torch():
    ours = list(DataLoader(Records(sg, 3), batch_size=None))
    theirs = list(tdata.DataLoader(Records(torch, 3), batch_size=None))
    assert_same(ours, theirs)


def test_custom_collate_fn_gets_the_list_of_samples():
    loader = DataLoader(Records(sg, 4), batch_size=3, collate_fn=lambda batch: len(batch))
    assert list(loader) == [3, 1]


def _epoch(loader):
    return [int(i) for _, y in loader for i in y.tolist()]


def test_shuffle_is_a_new_permutation_each_epoch_and_follows_the_seed():
    data = TensorDataset(sg.zeros(50, 1), sg.arange(50))
    loader = DataLoader(data, batch_size=8, shuffle=True)
    sg.manual_seed(0)
    first, second = _epoch(loader), _epoch(loader)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second and first != list(range(50))
    sg.manual_seed(0)
    assert _epoch(loader) == first
    seeded = [
        _epoch(
            DataLoader(data, batch_size=8, shuffle=True, generator=sg.Generator().manual_seed(3))
        )
        for _ in range(2)
    ]
    assert seeded[0] == seeded[1]


@pytest.mark.parametrize(
    "lengths",
    [[3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [0.34, 0.33, 0.33], [0.1, 0.1, 0.1, 0.7], [10]],
)
def test_random_split_lengths_match_torch_and_partition(lengths):
    ours, theirs = _tensor_datasets()
    parts = sdata.random_split(ours, lengths, generator=sg.Generator().manual_seed(1))
    tparts = tdata.random_split(theirs, lengths, generator=torch.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    indices = sorted(int(i) for p in parts for i in p.indices)
    assert indices == list(range(len(ours)))
    again = sdata.random_split(ours, lengths, generator=sg.Generator().manual_seed(1))
    assert [list(p.indices) for p in parts] == [list(p.indices) for p in again]
    for p in parts:
        for k in range(len(p)):
            assert_same(p[k], theirs[p.indices[k]])


def test_random_split_bad_lengths():
    data = TensorDataset(sg.zeros(5))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        sdata.random_split(data, [2, 2])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        tdata.random_split(tdata.TensorDataset(torch.zeros(5)), [2, 2])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        sdata.random_split(data, [1.5, -0.5])


def test_subset_and_concat_dataset_follow_torch():
    ours, theirs = _tensor_datasets()
    s, t = sdata.Subset(ours, [4, 0, 7]), tdata.Subset(theirs, [4, 0, 7])
    assert len(s) == len(t)
    assert_same(list(DataLoader(s, batch_size=2)), list(tdata.DataLoader(t, batch_size=2)))
    assert_same(s[[0, 2]], t[[0, 2]])
    both, tboth = ours + s, theirs + t
    assert len(both) == len(tboth) == 13
    for k in (0, 9, 10, 12, -1, -13):
        assert_same(both[k], tboth[k])
    with pytest.raises(IndexError):
        both[13]


def test_iterable_dataset_batches_as_torch():
    class Stream(sdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    class TorchStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    for kwargs in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        assert_same(
            list(DataLoader(Stream(), **kwargs)), list(tdata.DataLoader(TorchStream(), **kwargs))
        )


def test_gradients_flow_through_batches_as_torch():
    w = sg.tensor([[0.5], [-1.0]], requires_grad=True)
    tw = torch.tensor([[0.5], [-1.0]], requires_grad=True)
    ours, theirs = _tensor_datasets()
    for (x, y), (tx, ty) in zip(
        DataLoader(ours, batch_size=4), tdata.DataLoader(theirs, batch_size=4), strict=True
    ):
        ((x @ w).squeeze(1) - y).pow(2).mean().backward()
        ((tx @ tw).squeeze(1) - ty).pow(2).mean().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_public_names_and_bad_arguments():
    assert sg.utils.data.DataLoader is DataLoader
    data = TensorDataset(sg.zeros(4))
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(data, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(data, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(data, batch_size=None, drop_last=True)
    with pytest.raises(TypeError, match="default_collate"):
        sdata.default_collate([object(), object()])
    with pytest.raises(NotImplementedError):
        sdata.Dataset()[0]
    assert len(DataLoader(data, batch_size=3)) == math.ceil(4 / 3)
