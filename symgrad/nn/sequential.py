"""``Sequential``: modules applied one after the other, as ``torch.nn.Sequential``.

Example:
    >>> import symgrad as sg
    >>> _ = sg.manual_seed(0)
    >>> model = sg.nn.Sequential(sg.nn.Linear(4, 8), sg.nn.Tanh(), sg.nn.Linear(8, 2))
    >>> model(sg.randn(5, 4)).shape, len(model)
    ((5, 2), 3)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, overload

from symgrad.nn.module import Module


class Sequential(Module):
    """Modules applied in order, each to the previous one's output; built from
    positional modules (named ``'0'``, ``'1'``, ...) or one ``OrderedDict`` of named
    modules.

    It indexes like a list (negative indices and slices; a slice is a new
    ``Sequential`` that keeps the original names), and ``append``, ``extend``,
    ``insert`` and ``pop`` change it in place.  Anything but a Module (or ``None``)
    raises ``TypeError``; an index out of range raises ``IndexError``.  Each module
    is called with one argument, as in PyTorch.

    Example:
        >>> import symgrad as sg
        >>> from collections import OrderedDict
        >>> model = Sequential(OrderedDict([("fc", sg.nn.Linear(2, 3)), ("act", sg.nn.ReLU())]))
        >>> model.fc, len(model), model[-1]
        (Linear(in_features=2, out_features=3, bias=True), 2, ReLU())
        >>> model.append(sg.nn.Linear(3, 1))[2].out_features
        1
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def _index(self, idx: int) -> int:
        size = len(self)
        idx = int(idx.__index__())
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return idx % size

    @overload
    def __getitem__(self, idx: slice) -> Sequential: ...

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[self._index(idx)]
        setattr(self, key, module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]:
            delattr(self, key)
        # keep the numbering contiguous, as PyTorch does
        self._modules = {str(i): m for i, m in enumerate(self._modules.values())}

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by its position; returns ``self``.

        >>> import symgrad as sg
        >>> Sequential(sg.nn.ReLU()).append(sg.nn.Tanh())
        Sequential(
          (0): ReLU()
          (1): Tanh()
        )
        """
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append each of ``modules``; returns ``self``.

        >>> import symgrad as sg
        >>> len(Sequential().extend([sg.nn.ReLU(), sg.nn.Tanh()]))
        2
        """
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index`` (negative counts from the end) and
        renumber the modules ``'0'``, ``'1'``, ...; returns ``self``.  A non-Module raises
        ``AssertionError`` and an index beyond either end ``IndexError``, as in PyTorch.

        >>> import symgrad as sg
        >>> model = Sequential(sg.nn.ReLU(), sg.nn.Tanh()).insert(1, sg.nn.Sigmoid())
        >>> [type(m).__name__ for m in model]
        ['ReLU', 'Sigmoid', 'Tanh']
        """
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index + n if index < 0 else index
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules = {str(i): m for i, m in enumerate(items)}
        return self

    def pop(self, key: int | slice) -> Module:
        """Remove and return the module at ``key`` (a slice gives a ``Sequential``); the
        rest are renumbered.

        >>> import symgrad as sg
        >>> model = Sequential(sg.nn.ReLU(), sg.nn.Tanh())
        >>> model.pop(0), model
        (ReLU(), Sequential(
          (0): Tanh()
        ))
        """
        value = self[key]
        del self[key]
        return value

    def forward(self, input: Any) -> Any:
        """Call each module in turn on the previous output; an empty ``Sequential``
        returns ``input``.

        >>> import symgrad as sg
        >>> Sequential(sg.nn.ReLU(), sg.nn.Sigmoid())(sg.tensor([-5.0]))
        tensor([0.5])
        """
        for module in self:
            input = module(input)
        return input


__all__ = ["Sequential"]
