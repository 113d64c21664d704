"""Samplers: the order in which a :class:`~symgrad.utils.data.DataLoader` reads samples.

Example:
    >>> import symgrad as sg
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    >>> sorted(RandomSampler(range(4), generator=sg.Generator().manual_seed(1)))
    [0, 1, 2, 3]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from symgrad.frontend.random import Generator, default_generator, randperm


class Sampler:
    """Base class of the samplers, as ``torch.utils.data.Sampler``: it yields dataset
    indices; subclasses define ``__iter__`` (and ``__len__``).  Any iterable of indices
    works as a ``DataLoader``'s ``sampler`` too.

    >>> class Reversed(Sampler):
    ...     def __iter__(self):
    ...         return iter([2, 1, 0])
    >>> list(Reversed())
    [2, 1, 0]
    """

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``, as ``torch.utils.data.SequentialSampler``.

    >>> list(SequentialSampler("abc")), len(SequentialSampler(range(4)))
    ([0, 1, 2], 4)
    """

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random order every pass, as ``torch.utils.data.RandomSampler``; with
    ``replacement``, ``num_samples`` independent draws (default ``len(data_source)``);
    without, ``num_samples`` may exceed the length (whole permutations, then part of
    one).  Without a ``generator`` each pass is seeded from the default generator, so
    ``sg.manual_seed`` makes the order reproducible.  The numbers differ from PyTorch's.

    >>> import symgrad as sg
    >>> g = sg.Generator().manual_seed(0)
    >>> len(list(RandomSampler(range(3), num_samples=7, generator=g)))
    7
    """

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        """How many indices a pass yields: ``num_samples`` or ``len(data_source)``.

        >>> RandomSampler(range(5)).num_samples, RandomSampler(range(5), num_samples=2).num_samples
        (5, 2)
        """
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator
        if generator is None:  # a fresh stream per pass, seeded from the default generator
            generator = Generator().manual_seed(int(default_generator.integers(2**63)))
        if self.replacement:
            yield from generator.integers(0, n, self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``, as
    ``torch.utils.data.BatchSampler``; the last, shorter list is dropped with
    ``drop_last``.

    >>> list(BatchSampler(range(5), batch_size=2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
