"""Containers with PyTorch's behaviour: ``ModuleList`` and ``ParameterList`` here, and
``ModuleDict`` and ``ParameterDict`` (from :mod:`symgrad.nn.dict_containers`).  What
they hold is registered, so ``parameters()``, ``state_dict()``, ``to()`` and
``train()`` see it.

Example:
    >>> import symgrad as sg
    >>> layers = sg.nn.ModuleList([sg.nn.Linear(2, 2) for _ in range(3)])
    >>> len(layers), [name for name, _ in layers.named_parameters()][:2]
    (3, ['0.weight', '0.bias'])
    >>> heads = sg.nn.ModuleDict({"a": sg.nn.ReLU()})
    >>> "a" in heads, list(heads.keys())
    (True, ['a'])
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any, Self, overload

from symgrad.frontend.tensor import Tensor
from symgrad.nn._helpers import addindent, as_parameter, parameter_line
from symgrad.nn.dict_containers import ModuleDict, ParameterDict
from symgrad.nn.module import Module


def _position(idx: Any, size: int) -> int:
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range")
    return idx % size


def _check_iterable(values: object, container: str, method: str) -> None:
    if not isinstance(values, Iterable) or isinstance(values, Tensor):
        raise TypeError(
            f"{container}.{method} should be called with an iterable, but got "
            f"{type(values).__name__}"
        )


class ModuleList(Module):
    """Submodules in a list: indexing (negative too), slicing (a new ``ModuleList``),
    ``append``, ``extend``, ``insert``, ``pop``, ``+`` and ``+=``.

    Unlike :class:`~symgrad.nn.Sequential` it has no ``forward``: the model that owns
    it decides how to call its modules.  Anything but a Module (or ``None``) raises
    ``TypeError``; an index out of range raises ``IndexError``.

    Example:
        >>> import symgrad as sg
        >>> blocks = ModuleList([sg.nn.ReLU(), sg.nn.Tanh()])
        >>> blocks.append(sg.nn.Linear(2, 2)).insert(0, sg.nn.Identity())
        >>> [type(m).__name__ for m in blocks[1:]]
        ['ReLU', 'Tanh', 'Linear']
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @overload
    def __getitem__(self, idx: slice) -> ModuleList: ...

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx: int | slice) -> Module | ModuleList:
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_position(idx, len(self)))]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, str(_position(idx, len(self))), module)

    def __delitem__(self, idx: int | slice) -> None:
        if isinstance(idx, slice):
            for k in range(len(self))[idx]:
                delattr(self, str(k))
        else:
            delattr(self, str(_position(idx, len(self))))
        self._renumber(list(self._modules.values()))

    def _renumber(self, modules: list[Module]) -> None:
        self.__dict__["_modules"] = {str(i): m for i, m in enumerate(modules)}

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> Self:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(chain(self, other))

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, module: Module) -> Self:
        """Add ``module`` at the end; returns ``self``.

        >>> import symgrad as sg
        >>> ModuleList().append(sg.nn.ReLU()).append(sg.nn.Tanh())
        ModuleList(
          (0): ReLU()
          (1): Tanh()
        )
        """
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        """Append every module of ``modules``; returns ``self``.  A non-iterable (or a
        Tensor) raises ``TypeError``.

        >>> import symgrad as sg
        >>> len(ModuleList([sg.nn.ReLU()]).extend([sg.nn.Tanh(), sg.nn.Sigmoid()]))
        3
        """
        _check_iterable(modules, "ModuleList", "extend")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (as ``list.insert``: an index past
        either end inserts there) and renumber; returns ``None``, as in PyTorch.

        >>> import symgrad as sg
        >>> blocks = ModuleList([sg.nn.ReLU(), sg.nn.Tanh()])
        >>> blocks.insert(-1, sg.nn.Sigmoid())
        >>> [type(m).__name__ for m in blocks]
        ['ReLU', 'Sigmoid', 'Tanh']
        """
        self.add_module(str(len(self)), module)  # checks the type; the key is renumbered
        items = list(self._modules.values())
        items.insert(index, items.pop())
        self._renumber(items)

    def pop(self, key: int | slice) -> Module | ModuleList:
        """Remove and return the module at ``key`` (a slice gives a ``ModuleList``); the
        rest are renumbered.

        >>> import symgrad as sg
        >>> blocks = ModuleList([sg.nn.ReLU(), sg.nn.Tanh()])
        >>> blocks.pop(0), len(blocks), blocks[0]
        (ReLU(), 1, Tanh())
        """
        value = self[key]
        del self[key]
        return value

    def __repr__(self) -> str:
        """Runs of equal modules print once, as ``(0-2): 3 x Linear(...)``, as PyTorch."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{self._get_name()}()"
        blocks: list[list] = []  # [start, end, repr]
        for i, text in enumerate(reprs):
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = [
            addindent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}", 2)
            for a, b, text in blocks
        ]
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class ParameterList(Module):
    """Parameters in a list: a plain Tensor is wrapped as a Parameter sharing its array;
    other values (an int, a string) are kept but are not parameters.

    It indexes like a list (a slice is a new ``ParameterList``) and has ``append``,
    ``extend`` and ``+=``; calling it raises ``RuntimeError``, as in PyTorch.

    Example:
        >>> import symgrad as sg
        >>> params = ParameterList([sg.zeros(2), sg.ones(3)])
        >>> [p.shape for p in params], len(list(params.parameters()))
        ([(2,), (3,)], 2)
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self.__dict__["_size"] = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(_position(idx, len(self))))

    def __setitem__(self, idx: int, value: Any) -> None:
        setattr(self, str(_position(idx, len(self))), as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter([self[i] for i in range(len(self))])

    def __iadd__(self, values: Iterable[Any]) -> Self:
        return self.extend(values)

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value: Any) -> Self:
        """Add ``value`` at the end (a plain Tensor becomes a Parameter); returns ``self``.

        >>> import symgrad as sg
        >>> params = ParameterList().append(sg.zeros(2))
        >>> type(params[0]).__name__, params[0].requires_grad
        ('Parameter', True)
        """
        self.__dict__["_size"] += 1
        self[len(self) - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> Self:
        """Append every value; returns ``self``.  A non-iterable (or a Tensor) raises
        ``TypeError``.

        >>> import symgrad as sg
        >>> len(ParameterList().extend([sg.zeros(1), sg.zeros(2)]))
        2
        """
        _check_iterable(values, "ParameterList", "extend")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        """One line per entry, with its kind, dtype and size, as PyTorch prints it.

        >>> import symgrad as sg
        >>> print(ParameterList([sg.zeros(2, 3), sg.ones(1)]))
        ParameterList(
            (0): Parameter containing: [float64 of size 2x3]
            (1): Parameter containing: [float64 of size 1]
        )
        """
        return "\n".join(parameter_line(k, p) for k, p in enumerate(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList"]
