"""Containers by name with PyTorch's behaviour: ``ModuleDict`` and ``ParameterDict``.
What they hold is registered, so ``parameters()``, ``state_dict()``, ``to()`` and
``train()`` see it.  (``symgrad.nn.containers`` re-exports both.)

Example:
    >>> import symgrad as sg
    >>> heads = sg.nn.ModuleDict({"a": sg.nn.Linear(2, 1)})
    >>> [name for name, _ in heads.named_parameters()]
    ['a.weight', 'a.bias']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from symgrad.nn._helpers import as_parameter, check_name, parameter_line
from symgrad.nn.module import Module


class ModuleDict(Module):
    """Submodules by name, in insertion order, with the ``dict`` methods (``[]``, ``in``,
    ``len``, iteration over the names, ``keys``, ``values``, ``items``, ``update``,
    ``pop``, ``clear``).

    Names follow the Module rules: a name with a ``.`` or an empty name raises
    ``KeyError``, a value that is not a Module ``TypeError``.  Like ``ModuleList`` it
    has no ``forward``.

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
        """Remove every module.

        >>> import symgrad as sg
        >>> acts = ModuleDict({"relu": sg.nn.ReLU()})
        >>> acts.clear()
        >>> len(acts)
        0
        """
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove and return the module ``key`` (``KeyError`` when there is none).

        >>> import symgrad as sg
        >>> acts = ModuleDict({"relu": sg.nn.ReLU(), "tanh": sg.nn.Tanh()})
        >>> acts.pop("relu"), list(acts)
        (ReLU(), ['tanh'])
        """
        value = self[key]
        del self[key]
        return value

    def keys(self):
        """The names, in insertion order (a live ``dict`` view).

        >>> import symgrad as sg
        >>> list(ModuleDict({"b": sg.nn.ReLU(), "a": sg.nn.Tanh()}).keys())
        ['b', 'a']
        """
        return self._modules.keys()

    def items(self):
        """``(name, module)`` pairs, in insertion order (a live ``dict`` view).

        >>> import symgrad as sg
        >>> list(ModuleDict({"act": sg.nn.ReLU()}).items())
        [('act', ReLU())]
        """
        return self._modules.items()

    def values(self):
        """The modules, in insertion order (a live ``dict`` view).

        >>> import symgrad as sg
        >>> list(ModuleDict({"act": sg.nn.ReLU()}).values())
        [ReLU()]
        """
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping, a ``ModuleDict`` or ``(name, module)``
        pairs.  A non-iterable raises ``TypeError``, an item that is not a pair
        ``ValueError``.

        >>> import symgrad as sg
        >>> acts = ModuleDict({"act": sg.nn.ReLU()})
        >>> acts.update([("act", sg.nn.Tanh()), ("out", sg.nn.Sigmoid())])
        >>> list(acts.values())
        [Tanh(), Sigmoid()]
        """
        _update(self, modules, "ModuleDict")


class ParameterDict(Module):
    """Parameters by name, in insertion order, with the ``dict`` methods: a plain Tensor
    is wrapped as a Parameter sharing its array; other values are kept but are not
    parameters.

    A name with a ``.`` or an empty name raises ``KeyError``; calling it raises
    ``RuntimeError``, as in PyTorch.  ``keys()``, ``values()`` and ``items()`` return
    lists (PyTorch returns views).

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
        setattr(self, key, as_parameter(value))
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
        """The names, in insertion order.

        >>> import symgrad as sg
        >>> ParameterDict({"w": sg.zeros(1), "b": sg.zeros(1)}).keys()
        ['w', 'b']
        """
        return list(self._keys)

    def values(self) -> list[Any]:
        """The parameters (and other values), in insertion order.

        >>> import symgrad as sg
        >>> [p.shape for p in ParameterDict({"w": sg.zeros(2, 3)}).values()]
        [(2, 3)]
        """
        return [self[k] for k in self._keys]

    def items(self) -> list[tuple[str, Any]]:
        """``(name, parameter)`` pairs, in insertion order.

        >>> import symgrad as sg
        >>> [(k, v.shape) for k, v in ParameterDict({"w": sg.zeros(2)}).items()]
        [('w', (2,))]
        """
        return [(k, self[k]) for k in self._keys]

    def pop(self, key: str) -> Any:
        """Remove and return entry ``key`` (``KeyError`` when there is none).

        >>> import symgrad as sg
        >>> params = ParameterDict({"w": sg.zeros(2), "b": sg.zeros(1)})
        >>> params.pop("b").shape, params.keys()
        ((1,), ['w'])
        """
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every entry.

        >>> import symgrad as sg
        >>> params = ParameterDict({"w": sg.zeros(2)})
        >>> params.clear()
        >>> len(params), list(params.parameters())
        (0, [])
        """
        for key in list(self._keys):
            del self[key]

    def update(self, parameters: Any) -> None:
        """Add (or replace) entries from a mapping, a ``ParameterDict`` or ``(name, value)``
        pairs.  A non-iterable raises ``TypeError``, an item that is not a pair
        ``ValueError``.

        >>> import symgrad as sg
        >>> params = ParameterDict()
        >>> params.update([("w", sg.ones(2)), ("b", sg.zeros(1))])
        >>> params.keys()
        ['w', 'b']
        """
        _update(self, parameters, "ParameterDict")

    def extra_repr(self) -> str:
        """One line per entry, with its kind, dtype and size, as PyTorch prints it.

        >>> import symgrad as sg
        >>> print(ParameterDict({"w": sg.zeros(2, 3), "b": sg.zeros(2)}))
        ParameterDict(
            (w): Parameter containing: [float64 of size 2x3]
            (b): Parameter containing: [float64 of size 2]
        )
        """
        return "\n".join(parameter_line(k, p) for k, p in self.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")


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


__all__ = ["ModuleDict", "ParameterDict"]
