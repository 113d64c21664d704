"""Utilities with PyTorch's names: ``sg.utils.data`` (datasets and batch loading).

Example:
    >>> import symgrad as sg
    >>> from symgrad.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(sg.arange(6.0), sg.arange(6)), batch_size=4)
    >>> [(x.shape, y.dtype) for x, y in loader]
    [((4,), dtype('int64')), ((2,), dtype('int64'))]
"""

from symgrad.utils import data

__all__ = ["data"]
