"""The half of :class:`~symgrad.nn.Module` that walks the registered tree: the
``named_*``/``parameters``/``buffers`` iterators, ``train``/``eval``, gradients,
dtype conversion and ``state_dict``/``load_state_dict``.  ``Module`` inherits all of
it; use ``Module``, not this class.

Example:
    >>> import symgrad as sg
    >>> model = sg.nn.Sequential(sg.nn.Linear(2, 2), sg.nn.ReLU())
    >>> [name for name, _ in model.named_parameters()], model.eval().training
    (['0.weight', '0.bias'], False)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from symgrad.frontend.tensor import Tensor
from symgrad.nn._helpers import parse_to
from symgrad.nn._module_state import IncompatibleKeys, convert, load_state, state_items
from symgrad.nn.parameter import Parameter
from symgrad.recording import no_grad

if TYPE_CHECKING:
    from symgrad.nn.module import Module


class ModuleTree:
    """Walking, modes, gradients, dtype and state for :class:`~symgrad.nn.Module` (its
    base class; it reads the ``_parameters``, ``_buffers`` and ``_modules`` stores that
    ``Module`` keeps).  Not meant to be used on its own.

    Example:
        >>> import symgrad as sg
        >>> issubclass(sg.nn.Module, ModuleTree)
        True
    """

    training: bool
    _parameters: dict[str, Any]
    _buffers: dict[str, Any]
    _modules: dict[str, Any]
    _non_persistent_buffers_set: set[str]

    # --- walking the tree ---------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (named ``prefix``, ``''`` by default)
        and all below, depth first; a module reached twice comes once unless
        ``remove_duplicate=False``.

        >>> import symgrad as sg
        >>> [n for n, _ in sg.nn.Sequential(sg.nn.Linear(2, 2), sg.nn.ReLU()).named_modules()]
        ['', '0', '1']
        """
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
        """This module and every module below it, depth first, each once.

        >>> import symgrad as sg
        >>> [type(m).__name__ for m in sg.nn.Sequential(sg.nn.ReLU()).modules()]
        ['Sequential', 'ReLU']
        """
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct children, once each.

        >>> import symgrad as sg
        >>> [n for n, _ in sg.nn.Sequential(sg.nn.ReLU(), sg.nn.Tanh()).named_children()]
        ['0', '1']
        """
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children (not their children).

        >>> import symgrad as sg
        >>> outer = sg.nn.Sequential(sg.nn.Sequential(sg.nn.ReLU()))
        >>> len(list(outer.children())), len(list(outer.modules()))
        (1, 3)
        """
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
        """``(dotted name, parameter)`` pairs in registration order; a parameter shared by
        several modules comes once (unless ``remove_duplicate=False``); ``recurse=False``
        keeps this module's own.

        >>> import symgrad as sg
        >>> [(n, p.shape) for n, p in sg.nn.Sequential(sg.nn.Linear(2, 2)).named_parameters()]
        [('0.weight', (2, 2)), ('0.bias', (2,))]
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (of this module and, with ``recurse``, all below), once each:
        what an optimizer takes.

        >>> import symgrad as sg
        >>> sum(p.numel() for p in sg.nn.Linear(3, 2).parameters())
        8
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs, persistent or not (``None`` slots skipped).

        >>> import symgrad as sg
        >>> [n for n, _ in sg.nn.Sequential(sg.nn.BatchNorm1d(2)).named_buffers()]
        ['0.running_mean', '0.running_var', '0.num_batches_tracked']
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (of this module and, with ``recurse``, all below), once each.

        >>> import symgrad as sg
        >>> [b.shape for b in sg.nn.BatchNorm1d(3).buffers()]
        [(3,), (3,), ()]
        """
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` (``''`` is this module); a missing one
        raises ``AttributeError``.

        >>> import symgrad as sg
        >>> sg.nn.Sequential(sg.nn.Sequential(sg.nn.ReLU(), sg.nn.Tanh())).get_submodule("0.1")
        Tanh()
        """
        module = self
        for item in target.split(".") if target else []:
            child = module._modules.get(item)
            if not isinstance(child, ModuleTree):  # a Module: the only subclass
                raise AttributeError(f"{type(module).__name__} has no submodule `{item}`")
            module = child
        return module

    def apply(self, fn: Callable[[Module], object]) -> Self:
        """Call ``fn`` on every child (recursively), then on this module; returns ``self``.
        The usual use is custom initialisation.

        >>> import symgrad as sg
        >>> seen = []
        >>> _ = sg.nn.Sequential(sg.nn.ReLU()).apply(lambda m: seen.append(type(m).__name__))
        >>> seen
        ['ReLU', 'Sequential']
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Set training mode (``Dropout`` drops, ``BatchNorm`` uses and updates batch
        statistics), or eval mode with ``mode=False``, here and in every module below;
        returns ``self``.  A non-bool ``mode`` raises ``ValueError``.  A function that
        :func:`symgrad.compile` traced before the switch traces again in the new mode (the
        mode of each module it calls is a guard of its trace).

        >>> import symgrad as sg
        >>> model = sg.nn.Sequential(sg.nn.Dropout())
        >>> model.train(False)[0].training, model.train()[0].training
        (False, True)
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Self:
        """Set evaluation mode, ``train(False)``; returns ``self``.

        >>> import symgrad as sg
        >>> sg.nn.Dropout().eval()(sg.ones(2))
        tensor([1., 1.])
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Turn gradient recording on or off for every parameter (to freeze part of a
        model); returns ``self``.

        >>> import symgrad as sg
        >>> [p.requires_grad for p in sg.nn.Linear(2, 1).requires_grad_(False).parameters()]
        [False, False]
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's ``.grad`` (or, with ``set_to_none=False``, zero it in
        place).

        >>> import symgrad as sg
        >>> layer = sg.nn.Linear(2, 1)
        >>> layer(sg.ones(1, 2)).sum().backward()
        >>> layer.zero_grad()
        >>> layer.weight.grad is None
        True
        """
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                with no_grad():
                    param.grad.zero_()

    # --- dtype conversion ---------------------------------------------------------------
    def _convert_to(self, dtype: np.dtype) -> Self:
        convert(self, dtype)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """Convert floating-point parameters and buffers to ``dtype`` in place; returns ``self``.

        Like PyTorch, the Parameter objects stay the same (their arrays are replaced by
        converted copies, and so are their ``.grad`` arrays); integer buffers keep their
        dtype.  Accepts ``to(dtype)``, ``to(dtype=...)``, ``to(tensor)`` and the no-op
        ``to('cpu')``; another device raises ``ValueError``, a non-floating dtype
        ``TypeError``.

        >>> import symgrad as sg
        >>> sg.nn.Linear(2, 1).to(sg.float32).weight.dtype
        dtype('float32')
        """
        dtype = parse_to(args, dict(kwargs))
        return self if dtype is None else self._convert_to(dtype)

    def float(self) -> Self:
        """Convert floating-point parameters and buffers to float32 in place; returns ``self``.

        >>> import symgrad as sg
        >>> sg.nn.Linear(2, 1).float().bias.dtype
        dtype('float32')
        """
        return self._convert_to(np.dtype(np.float32))

    def double(self) -> Self:
        """Convert floating-point parameters and buffers to float64 in place; returns ``self``.

        >>> import symgrad as sg
        >>> sg.nn.Linear(2, 1, dtype=sg.float32).double().weight.dtype
        dtype('float64')
        """
        return self._convert_to(np.dtype(np.float64))

    def cpu(self) -> Self:
        """A no-op (symgrad runs on the CPU); returns ``self``.  There is no ``cuda()``.

        >>> import symgrad as sg
        >>> m = sg.nn.ReLU()
        >>> m.cpu() is m
        True
        """
        return self

    # --- state ------------------------------------------------------------------------
    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name, as NumPy array copies
        (the Tensors themselves with ``keep_vars=True``); tied parameters appear under
        every name, as in PyTorch.

        >>> import symgrad as sg
        >>> [(n, v.shape) for n, v in sg.nn.Linear(2, 1).state_dict().items()]
        [('weight', (1, 2)), ('bias', (1,))]
        """
        out: OrderedDict[str, Any] = OrderedDict()
        for name, tensor in state_items(self):
            out[prefix + name] = tensor if keep_vars else tensor.numpy().copy()
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values (NumPy arrays, Tensors or nested lists) into the existing arrays,
        converting dtype.

        With ``strict=True`` missing and unexpected keys are errors; a shape mismatch
        always is (one ``RuntimeError`` lists them all), and nothing is changed then.
        Returns the :class:`IncompatibleKeys` that ``strict=False`` let through.

        >>> import symgrad as sg
        >>> layer = sg.nn.Linear(2, 1)
        >>> layer.load_state_dict({"weight": [[1.0, 2.0]], "bias": [0.5]})
        <All keys matched successfully>
        >>> layer.weight.tolist()
        [[1.0, 2.0]]
        """
        return load_state(self, state_dict, strict)


__all__ = ["IncompatibleKeys", "ModuleTree"]
