"""``Module``: the base class of layers and models, with PyTorch's registration rules.

Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, in
definition order; ``parameters()``, ``state_dict()``, ``to()`` and the repr walk
what was registered.

Example:
    >>> import symgrad as sg
    >>> class Affine(sg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = sg.nn.Parameter(sg.ones(2))
    ...         self.shift = sg.nn.Parameter(sg.zeros(2))
    ...     def forward(self, x):
    ...         return x * self.scale + self.shift
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()]
    ['scale', 'shift']
    >>> m(sg.tensor([3.0, 4.0]))
    tensor([3., 4.], grad_fn=<recorded>)
"""

from __future__ import annotations

from typing import Any

from symgrad.frontend.tensor import Tensor
from symgrad.ir.scopes import STATE as SCOPES
from symgrad.nn._helpers import addindent, check_name, check_type
from symgrad.nn._module_state import IncompatibleKeys
from symgrad.nn._module_tree import ModuleTree
from symgrad.nn.parameter import Parameter
from symgrad.recording import RECORDING


class Module(ModuleTree):
    """Base class for all layers and models: subclass it, call ``super().__init__()``
    first, assign Parameters and sub-Modules in ``__init__`` and compute the output in
    ``forward``; call the module (``model(x)``), not ``forward``.

    Unlike PyTorch there are no hooks, no devices but the CPU (``to('cuda')`` raises
    ``ValueError``) and ``to()`` converts floating-point dtypes only.  Inside
    :func:`symgrad.compile` the module's Python attributes (layer settings) are read
    while tracing and are constants of the trace, ``training`` is a guard (after
    ``eval()`` the function traces again), and its Parameters and buffers are kernel
    inputs read on every call.

    Example:
        >>> import symgrad as sg
        >>> model = sg.nn.Sequential(sg.nn.Linear(4, 16), sg.nn.ReLU())
        >>> print(model)
        Sequential(
          (0): Linear(in_features=4, out_features=16, bias=True)
          (1): ReLU()
        )
        >>> list(model.state_dict())
        ['0.weight', '0.bias']
    """

    training: bool

    def __init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it (the base one raises
        ``NotImplementedError``).  ``module(*args)`` calls it.

        >>> import symgrad as sg
        >>> class Double(sg.nn.Module):
        ...     def forward(self, x):
        ...         return 2 * x
        >>> Double()(sg.tensor([1.0]))
        tensor([2.])
        """
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        trace = RECORDING.trace
        if trace is not None:  # traced in training mode, the graph does not hold in eval mode
            trace.guard_once(("training", id(self)), lambda module=self: module.training)
        SCOPES.enter()  # its nodes form a layer of their own when a large graph is split
        try:
            return self.forward(*args, **kwargs)
        finally:
            SCOPES.leave()

    # --- registration -----------------------------------------------------------------
    def _require_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def _register(self, store: str, kind: str, name: str, value: Any, cls: type) -> None:
        self._require_init(kind)
        check_name(kind, name)
        if hasattr(self, name) and name not in self.__dict__[store]:
            raise KeyError(f"attribute '{name}' already exists")
        check_type(value, cls, kind, name)
        self.__dict__[store][name] = value

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or ``None`` for an empty slot) under ``name``,
        as ``self.name = param`` does.  A name with a ``.``, an empty name or an existing
        other attribute raises ``KeyError``; another type ``TypeError``.

        >>> import symgrad as sg
        >>> m = Module()
        >>> m.register_parameter("w", Parameter(sg.ones(2)))
        >>> m.register_parameter("b", None)
        >>> [name for name, _ in m.named_parameters()], m.b
        (['w'], None)
        """
        self._register("_parameters", "parameter", name, param, Parameter)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-trainable tensor (or ``None``) as buffer ``name``: it follows
        ``to(dtype)`` and is saved in ``state_dict`` when ``persistent``.

        >>> import symgrad as sg
        >>> m = Module()
        >>> m.register_buffer("mean", sg.zeros(2))
        >>> m.register_buffer("cache", sg.zeros(2), persistent=False)
        >>> [n for n, _ in m.named_buffers()], list(m.state_dict())
        (['mean', 'cache'], ['mean'])
        """
        self._register("_buffers", "buffer", name, tensor, Tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (a Module or ``None``) as a child under ``name``, as
        ``self.name = module`` does; ``register_module`` is the same method.

        >>> m = Module()
        >>> m.add_module("inner", Module())
        >>> m
        Module(
          (inner): Module()
        )
        """
        self._register("_modules", "module", name, module, Module)

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        stores = {kind: d.get(f"_{kind}s") for kind in ("parameter", "module", "buffer")}
        types = {"parameter": Parameter, "module": Module, "buffer": Tensor}
        kind = next((k for k in ("parameter", "module") if isinstance(value, types[k])), None)
        if kind is not None and (kind == "parameter" or name not in (stores["parameter"] or ())):
            self._require_init(kind)
            for store in (d, *stores.values()):
                if store is not stores[kind]:
                    store.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            stores[kind][name] = value
            return
        for kind, store in stores.items():  # re-assigning a registered name: same kind or None
            if store is not None and name in store:
                check_type(value, types[kind], kind, name)
                store[name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = [*super().__dir__(), *self._parameters, *self._buffers, *self._modules]
        return sorted(set(keys))

    # --- printing -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``; layers override it
        (the base one returns ``''``).

        >>> import symgrad as sg
        >>> sg.nn.Linear(2, 1).extra_repr()
        'in_features=2, out_features=1, bias=True'
        """
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({key}): " + addindent(repr(module), 2) for key, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


__all__ = ["IncompatibleKeys", "Module"]
