"""Neural-network building blocks; ``sg.nn.functional`` is :mod:`symgrad.functional`."""

from symgrad import functional

__all__ = ["functional"]
