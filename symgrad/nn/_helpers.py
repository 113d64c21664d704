"""Small helpers shared by the ``symgrad.nn`` modules (names, devices, ``to()`` arguments,
the containers' parameter wrapping and repr lines)."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.dtypes import canonical, is_floating
from symgrad.frontend.tensor import Tensor
from symgrad.nn.parameter import Parameter

_NAMES = {
    "parameter": "symgrad.nn.Parameter",
    "module": "symgrad.nn.Module",
    "buffer": "symgrad.Tensor",
}


def addindent(text: str, spaces: int) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first, *[" " * spaces + line for line in rest]])


def check_name(kind: str, name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


def check_type(value: Any, cls: type, kind: str, name: str) -> None:
    if value is not None and not isinstance(value, cls):
        raise TypeError(
            f"cannot assign '{type(value).__name__}' as {kind} '{name}' "
            f"({_NAMES[kind]} or None expected)"
        )


def check_device(device: object) -> None:
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"symgrad runs on the CPU only; device {device!r} is not available")


def parse_to(args: tuple, kwargs: dict) -> np.dtype | None:
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    devices = [kwargs.pop("device", None)]
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps"):
            devices.append(arg)
        else:
            dtype = arg
    for device in devices:
        check_device(device)
    if dtype is None:
        return None
    target = canonical(dtype)
    if not is_floating(target):
        raise TypeError(
            f"nn.Module.to only accepts floating point dtypes, but got desired dtype={target}"
        )
    return target


def as_parameter(value: Any) -> Any:
    """``value`` as a Parameter when it is a plain Tensor (sharing its array, as
    PyTorch's ParameterList and ParameterDict do); anything else unchanged."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def parameter_line(key: object, value: Any) -> str:
    """One line of a ParameterList's or ParameterDict's repr, as PyTorch prints it."""
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(n) for n in value.shape)
        return f"  ({key}): {kind} containing: [{value.dtype} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"
