"""Datasets and batch loading, as ``torch.utils.data``.

A :class:`DataLoader` draws indices from a sampler (in order, or shuffled from the
generator :func:`symgrad.manual_seed` seeds, or ``generator=``), groups them into
batches and collates each batch with :func:`default_collate`: tensors and arrays
are stacked, Python numbers become tensors (floats as float64, as PyTorch), and
tuples, lists and dicts are collated field by field.  Batches are made in the
calling process; ``num_workers`` is accepted for compatibility.

Example:
    >>> import symgrad as sg
    >>> from symgrad.utils.data import DataLoader, TensorDataset, random_split
    >>> data = TensorDataset(sg.arange(10.0).reshape(5, 2), sg.arange(5))
    >>> x, y = next(iter(DataLoader(data, batch_size=2)))
    >>> x, y
    (tensor([[0., 1.],
            [2., 3.]]), tensor([0, 1]))
    >>> train, test = random_split(data, [0.6, 0.4], generator=sg.Generator().manual_seed(0))
    >>> len(train), len(test), len(DataLoader(train, batch_size=2))
    (3, 2, 2)
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from symgrad.frontend.creation import tensor
from symgrad.frontend.random import Generator, randperm
from symgrad.frontend.tensor import Tensor
from symgrad.utils.collate import default_collate, default_convert
from symgrad.utils.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]


class Dataset:
    """A map-style dataset, as ``torch.utils.data.Dataset``: subclasses define
    ``__getitem__`` (and usually ``__len__``, which samplers need); ``a + b`` is a
    :class:`ConcatDataset`.  Any object with ``__getitem__`` and ``__len__`` (a list)
    works as a dataset too.

    >>> class Squares(Dataset):
    ...     def __getitem__(self, i):
    ...         return i * i
    ...     def __len__(self):
    ...         return 4
    >>> data = Squares() + Squares()
    >>> len(data), data[5]
    (8, 1)
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream, as ``torch.utils.data.IterableDataset``: subclasses
    define ``__iter__``.  A ``DataLoader`` batches it in order; ``shuffle``, ``sampler``
    and ``batch_sampler`` raise ``ValueError`` with it, and ``ConcatDataset`` refuses
    it (``TypeError``).  As there are no worker processes, each sample is read once.

    >>> from symgrad.utils.data import DataLoader
    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [batch.tolist() for batch in DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")


class TensorDataset(Dataset):
    """Samples ``(t[i] for t in tensors)``: the tensors share their first dim.

    >>> import symgrad as sg
    >>> TensorDataset(sg.zeros(3, 2), sg.arange(3))[1]
    (tensor([0., 0.]), tensor(1))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset takes tensors, got {type(t).__name__}")
            if t.ndim == 0 or t.shape[0] != tensors[0].shape[0]:
                raise ValueError(
                    "Size mismatch between tensors: first dims "
                    f"{[t.shape[0] if t.ndim else None for t in tensors]}"
                )
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> Subset(["a", "b", "c"], [2, 0])[0]
    'c'
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets, one after the other.

    >>> data = ConcatDataset([["a", "b"], ["c"]])
    >>> len(data), data[2]
    (3, 'c')
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        if idx >= len(self):
            raise IndexError(f"index {idx} is out of range for a dataset of {len(self)} samples")
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` at random into subsets of the given lengths, or fractions summing
    to 1 (the remainder goes one by one to the first subsets), as PyTorch.

    >>> [len(part) for part in random_split(range(10), [0.5, 0.3, 0.2])]
    [5, 3, 2]
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= n:
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = counts
    if any(not isinstance(k, int | np.integer) or k < 0 for k in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative ints or fractions, got {lengths}"
        )
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(n, generator=generator).tolist()
    return [
        Subset(dataset, order[end - k : end])
        for end, k in zip(accumulate(lengths), lengths, strict=True)
    ]


def _rows(dataset: Any, indices: list[int]) -> list[Tensor] | None:
    """The collated batch of a TensorDataset (possibly through Subsets) in one gather per
    tensor; None for other datasets."""
    while isinstance(dataset, Subset):
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    index = tensor(np.asarray(indices, dtype=np.int64))
    return [t[index] for t in dataset.tensors]


class DataLoader:
    """Batches of ``dataset``'s samples, as ``torch.utils.data.DataLoader``.

    ``len(loader)`` is the number of batches (the last one partial unless ``drop_last``).
    Differences from PyTorch: batches are made in the calling process (``num_workers``,
    ``pin_memory``, ``timeout``, ``worker_init_fn`` and unknown keyword arguments are
    accepted and ignored), and a shuffled order differs from PyTorch's for the same
    seed.  ``shuffle`` with ``sampler``, or ``batch_sampler`` with ``batch_size``,
    ``shuffle``, ``sampler`` or ``drop_last``, raises ``ValueError``, as in PyTorch.

    >>> import symgrad as sg
    >>> loader = DataLoader(TensorDataset(sg.arange(5)), batch_size=2, shuffle=True)
    >>> len(loader), sorted(i for (batch,) in loader for i in batch.tolist())
    (3, [0, 1, 2, 3, 4])
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Iterable[int] | None = None,
        batch_sampler: Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        *,
        generator: Generator | None = None,
        **_unused: Any,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative")
        self.dataset = dataset
        self.batch_size, self.drop_last, self.generator = batch_size, drop_last, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError(
                "DataLoader with IterableDataset: expected unspecified shuffle, sampler and "
                "batch_sampler"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None and not self._iterable:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(
                sampler if sampler is not None else [], batch_size, drop_last
            )
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.batch_size = batch_size
        self._auto_collation = batch_sampler is not None or (
            self._iterable and batch_size is not None
        )
        self.collate_fn = collate_fn or (
            default_collate if self._auto_collation else default_convert
        )

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            yield from self._iterate_stream()
            return
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            fast = _rows(self.dataset, indices) if self.collate_fn is default_collate else None
            yield fast if fast is not None else self.collate_fn([self.dataset[i] for i in indices])

    def _iterate_stream(self) -> Iterator[Any]:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch: list[Any] = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


def get_worker_info() -> None:
    """``None``, always: batches are made in the calling process (``num_workers`` is
    accepted by ``DataLoader`` but starts no workers), as PyTorch returns in the main
    process.

    >>> get_worker_info() is None
    True
    """
    return None
