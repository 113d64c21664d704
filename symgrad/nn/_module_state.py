"""The longer bodies of :class:`~symgrad.nn.Module`'s state methods: walking the
parameters and persistent buffers by dotted name, ``load_state_dict`` and the dtype
conversion of ``to()``/``float()``/``double()``; and ``IncompatibleKeys``."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from symgrad.dtypes import is_floating
from symgrad.frontend.tensor import Tensor
from symgrad.nn.parameter import set_array

if TYPE_CHECKING:
    from symgrad.nn.module import Module


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` could not match: the model's keys the
    state dict lacks (``missing_keys``) and the state dict's keys the model lacks
    (``unexpected_keys``), two lists of dotted names.  A named tuple, as in PyTorch;
    when both are empty its repr says so.

    Example:
        >>> import symgrad as sg
        >>> model = sg.nn.Linear(2, 1)
        >>> model.load_state_dict(model.state_dict())
        <All keys matched successfully>
        >>> missing, unexpected = model.load_state_dict({"scale": 1.0}, strict=False)
        >>> missing, unexpected
        (['weight', 'bias'], ['scale'])
    """

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def state_items(root: Module) -> Iterator[tuple[str, Tensor]]:
    """``(dotted name, tensor)`` for the parameters and persistent buffers of ``root``
    and every module below it (a shared tensor under each of its names)."""
    for prefix, module in root.named_modules(remove_duplicate=False):
        lead = prefix + "." if prefix else ""
        for name, param in module._parameters.items():
            if param is not None:
                yield lead + name, param
        for name, buffer in module._buffers.items():
            if buffer is not None and name not in module._non_persistent_buffers_set:
                yield lead + name, buffer


def load_state(root: Module, state_dict: Mapping[str, Any], strict: bool) -> IncompatibleKeys:
    """``root.load_state_dict(state_dict, strict)``: check every key and shape first,
    then copy the values in place."""
    own = OrderedDict(state_items(root))
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
            f"Error(s) in loading state_dict for {type(root).__name__}:\n\t" + "\n\t".join(errors)
        )
    for tensor, array in pairs:
        np.copyto(tensor.numpy(), array, casting="unsafe")
    return IncompatibleKeys(missing, unexpected)


def convert(root: Module, dtype: np.dtype) -> None:
    """Give every floating-point parameter and buffer below ``root`` (and its ``.grad``)
    a converted copy of its array, keeping the Tensor objects."""
    for module in root.modules():
        for tensor in [*module._parameters.values(), *module._buffers.values()]:
            if tensor is None or not is_floating(tensor.dtype) or tensor.dtype == dtype:
                continue
            set_array(tensor, tensor.numpy().astype(dtype))
            grad = tensor.grad
            if grad is not None and grad.dtype != dtype:
                set_array(grad, grad.numpy().astype(dtype))
