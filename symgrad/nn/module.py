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

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self

import numpy as np

from symgrad.dtypes import is_floating
from symgrad.frontend.tensor import Tensor
from symgrad.ir.scopes import STATE as SCOPES
from symgrad.nn._helpers import addindent, check_name, check_type, parse_to
from symgrad.nn.parameter import Parameter, set_array
from symgrad.recording import no_grad


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` could not match: two lists of keys."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class Module:
    """Base class for all layers and models: subclass it, assign Parameters and
    sub-Modules in ``__init__`` and compute the output in ``forward``.

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
        """The computation; every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
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
        """Register ``param`` (a Parameter or ``None``) under ``name``."""
        self._register("_parameters", "parameter", name, param, Parameter)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-trainable tensor (saved in ``state_dict`` when ``persistent``)."""
        self._register("_buffers", "buffer", name, tensor, Tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (a Module or ``None``) as a child under ``name``."""
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

    # --- walking the tree ---------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (name ``''``) and all below, once each."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct children, once each."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children."""
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        walk = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in walk:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, e.g. ``('0.weight', ...)``; shared ones once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (of this module and, with ``recurse``, all below), once each."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every registered buffer."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` (``''`` is this module)."""
        module = self
        for item in target.split(".") if target else []:
            child = module._modules.get(item)
            if not isinstance(child, Module):
                raise AttributeError(f"{type(module).__name__} has no submodule `{item}`")
            module = child
        return module

    def apply(self, fn: Callable[[Module], object]) -> Self:
        """Call ``fn`` on every child (recursively), then on this module; returns ``self``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Set training mode (``Dropout`` active) here and in every module below."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Self:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Turn gradient recording on or off for every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's ``.grad`` (or, with ``set_to_none=False``, zero it in place)."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                with no_grad():
                    param.grad.zero_()

    # --- dtype conversion ---------------------------------------------------------------
    def _convert(self, dtype: np.dtype) -> Self:
        for module in self.modules():
            for tensor in [*module._parameters.values(), *module._buffers.values()]:
                if tensor is None or not is_floating(tensor.dtype) or tensor.dtype == dtype:
                    continue
                set_array(tensor, tensor.numpy().astype(dtype))
                grad = tensor.grad
                if grad is not None and grad.dtype != dtype:
                    set_array(grad, grad.numpy().astype(dtype))
        return self

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """Convert floating-point parameters and buffers to ``dtype`` in place; returns ``self``.

        Like PyTorch, the Parameter objects stay the same (their arrays are replaced by
        converted copies, and so are their ``.grad`` arrays).  Accepts ``to(dtype)``,
        ``to(dtype=...)``, ``to(tensor)`` and the no-op ``to('cpu')``.
        """
        dtype = parse_to(args, dict(kwargs))
        return self if dtype is None else self._convert(dtype)

    def float(self) -> Self:
        """Convert floating-point parameters and buffers to float32 in place."""
        return self._convert(np.dtype(np.float32))

    def double(self) -> Self:
        """Convert floating-point parameters and buffers to float64 in place."""
        return self._convert(np.dtype(np.float64))

    def cpu(self) -> Self:
        """A no-op (symgrad runs on the CPU); returns ``self``."""
        return self

    # --- state ------------------------------------------------------------------------
    def _state_items(self) -> Iterator[tuple[str, Tensor]]:
        for prefix, module in self.named_modules(remove_duplicate=False):
            lead = prefix + "." if prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield lead + name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers_set:
                    yield lead + name, buffer

    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name, as NumPy array copies
        (the Tensors themselves with ``keep_vars=True``); tied parameters appear under
        every name, as in PyTorch.
        """
        out: OrderedDict[str, Any] = OrderedDict()
        for name, tensor in self._state_items():
            out[prefix + name] = tensor if keep_vars else tensor.numpy().copy()
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values (NumPy arrays or Tensors) into the existing arrays, converting dtype.

        With ``strict=True`` missing and unexpected keys are errors; a shape mismatch
        always is.  Nothing is changed when an error is raised.  Returns the
        ``(missing_keys, unexpected_keys)`` that ``strict=False`` let through.
        """
        own = OrderedDict(self._state_items())
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors, pairs = [], []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
        if strict and unexpected:
            names = ", ".join(f'"{k}"' for k in unexpected)
            errors.append(f"Unexpected key(s) in state_dict: {names}")
        for key, tensor in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != tensor.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from "
                    f"checkpoint, the shape in current model is {tensor.shape}."
                )
            pairs.append((tensor, array))
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for tensor, array in pairs:
            np.copyto(tensor.numpy(), array, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # --- printing -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``; layers override it."""
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
