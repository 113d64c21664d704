"""Containers with PyTorch's behaviour: ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``ParameterDict``.  What they hold is registered, so ``parameters()``, ``state_dict()``,
``to()`` and ``train()`` see it.

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
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain
from typing import Any, Self, overload

from symgrad.frontend.tensor import Tensor
from symgrad.nn._helpers import addindent, check_name
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


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
    """Submodules in a list: indexing, slicing, ``append``, ``extend``, ``insert``, ``pop``.

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
        """Add ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        """Append every module of ``modules``; returns ``self``."""
        _check_iterable(modules, "ModuleList", "extend")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (as ``list.insert``)."""
        self.add_module(str(len(self)), module)  # checks the type; the key is renumbered
        items = list(self._modules.values())
        items.insert(index, items.pop())
        self._renumber(items)

    def pop(self, key: int | slice) -> Module | ModuleList:
        """Remove and return the module (or modules) at ``key``."""
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


class ModuleDict(Module):
    """Submodules by name, in insertion order, with the ``dict`` methods.

    Example:
        >>> import symgrad as sg
        >>> acts = ModuleDict({"relu": sg.nn.ReLU()})
        >>> acts["tanh"] = sg.nn.Tanh()
        >>> list(acts), acts.pop("relu")
        (['relu', 'tanh'], ReLU())
    """

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove and return the module ``key``."""
        value = self[key]
        del self[key]
        return value

    def keys(self):
        """The names."""
        return self._modules.keys()

    def items(self):
        """``(name, module)`` pairs."""
        return self._modules.items()

    def values(self):
        """The modules."""
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping or from ``(name, module)`` pairs."""
        _update(self, modules, "ModuleDict")


def _update(container: Any, items: Any, name: str) -> None:
    if not isinstance(items, Iterable):
        raise TypeError(
            f"{name}.update should be called with an iterable of key/value pairs, but got "
            f"{type(items).__name__}"
        )
    pairs = items.items() if isinstance(items, Mapping | ModuleDict | ParameterDict) else items
    for j, pair in enumerate(pairs):
        if not isinstance(pair, Iterable) or len(pair) != 2:
            raise ValueError(f"{name} update sequence element #{j} must be a (key, value) pair")
        container[pair[0]] = pair[1]


def _as_parameter(value: Any) -> Any:
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)  # shares the array, as PyTorch's ParameterList does
    return value


def _parameter_line(key: object, value: Any) -> str:
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(n) for n in value.shape)
        return f"  ({key}): {kind} containing: [{value.dtype} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    """Parameters in a list (plain Tensors are wrapped as Parameters sharing their array).

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
        setattr(self, str(_position(idx, len(self))), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter([self[i] for i in range(len(self))])

    def __iadd__(self, values: Iterable[Any]) -> Self:
        return self.extend(values)

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value: Any) -> Self:
        """Add ``value`` at the end; returns ``self``."""
        self.__dict__["_size"] += 1
        self[len(self) - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> Self:
        """Append every value; returns ``self``."""
        _check_iterable(values, "ParameterList", "extend")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(k, p) for k, p in enumerate(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """Parameters by name (plain Tensors are wrapped as Parameters), with ``dict`` methods.

    Example:
        >>> import symgrad as sg
        >>> params = ParameterDict({"scale": sg.ones(2)})
        >>> params["shift"] = sg.zeros(2)
        >>> list(params), [n for n, _ in params.named_parameters()]
        (['scale', 'shift'], ['scale', 'shift'])
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self.__dict__["_keys"] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        check_name("parameter", key)
        setattr(self, key, _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> list[str]:
        """The names."""
        return list(self._keys)

    def values(self) -> list[Any]:
        """The parameters."""
        return [self[k] for k in self._keys]

    def items(self) -> list[tuple[str, Any]]:
        """``(name, parameter)`` pairs."""
        return [(k, self[k]) for k in self._keys]

    def pop(self, key: str) -> Any:
        """Remove and return ``key``."""
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def update(self, parameters: Any) -> None:
        """Add (or replace) entries from a mapping or from ``(name, value)`` pairs."""
        _update(self, parameters, "ParameterDict")

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(k, p) for k, p in self.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")


__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList"]
