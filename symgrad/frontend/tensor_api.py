"""More of PyTorch's Tensor API: conversions (``to``, ``type``, ``float()``), devices,
``grad_fn``, ``backward(retain_graph=)``, random fills and the composite ops as methods.

:func:`attach` adds them to :class:`~symgrad.frontend.tensor.Tensor`; it runs when
:mod:`symgrad.frontend.tensor_methods` is imported.

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * 3).to("cpu").float()
    >>> y.dtype, y.device, y.grad_fn.name(), x.grad_fn
    (dtype('float32'), device(type='cpu'), 'ToCopyBackward0', None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.dtypes import bool_, canonical, float32, float64, int32, int64
from symgrad.errors import UnsupportedOpError
from symgrad.frontend import composite, creation, random
from symgrad.frontend.apply import assign, cast, elementwise
from symgrad.frontend.device import CPU, check_device, device
from symgrad.frontend.tensor import Tensor

_TYPE_NAMES = {
    float32: "FloatTensor",
    float64: "DoubleTensor",
    int64: "LongTensor",
    bool_: "BoolTensor",
}
_NAMED_TYPES = {name: dtype for dtype, name in _TYPE_NAMES.items()} | {"IntTensor": int32}


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``x.to(dtype)``, ``x.to("cpu")``, ``x.to(other)`` (its dtype), ``x.to(device, dtype)``;
    ``self`` comes back when nothing changes (unless ``copy=True``).

    >>> import symgrad as sg
    >>> x = sg.tensor([1.5])
    >>> x.to("cpu") is x, x.to(sg.float32).dtype, x.to(sg.tensor([1])).dtype
    (True, dtype('float32'), dtype('int64'))
    """
    dtype = kwargs.pop("dtype", None)
    where = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    flags = []
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str | device):
            where = arg
        elif isinstance(arg, bool):
            flags.append(arg)  # non_blocking, copy
        else:
            dtype = arg
    check_device(where)
    out = self if dtype is None else cast(self, _dtype(dtype))
    if (copy or (len(flags) > 1 and flags[1])) and out is self:
        out = self.clone()
    return out


def _dtype(dtype: Any) -> np.dtype:
    try:
        return canonical(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype such as sg.float32, got {dtype!r}") from None


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> str | Tensor:
    """With no dtype, the type's name; else ``self`` converted.

    >>> import symgrad as sg
    >>> sg.tensor([1.5]).type(), sg.tensor([1.5]).type(sg.long)
    ('symgrad.DoubleTensor', tensor([1]))
    """
    if dtype is None:
        return f"symgrad.{_TYPE_NAMES[self.dtype]}"
    if isinstance(dtype, str):
        name = dtype.rpartition(".")[2]
        if name not in _NAMED_TYPES:
            raise TypeError(f"invalid type: {dtype!r}")
        dtype = _NAMED_TYPES[name]
    return cast(self, _dtype(dtype))


def _converter(dtype: np.dtype, doc: str) -> Callable[[Tensor], Tensor]:
    def convert(self: Tensor, memory_format: Any = None) -> Tensor:
        return cast(self, dtype)

    convert.__doc__ = doc
    return convert


def _cuda(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    check_device("cuda")
    return self


def _in_place(update: Callable[..., Tensor]) -> Callable[..., Tensor]:
    return lambda self, *args, **kwargs: assign(self, update(self, *args, **kwargs))


def _new(make: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def new(self: Tensor, *args: Any, dtype=None, device=None, requires_grad=False) -> Tensor:
        return make(*args, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    return new


def _new_tensor(self: Tensor, data: Any, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.tensor(data, dtype or self.dtype, requires_grad, device=device)


# --- grad_fn --------------------------------------------------------------------------

_PRIMITIVE_NAMES = {
    "sum": "Sum",
    "reshape": "View",
    "permute": "Permute",
    "concat": "Cat",
    "gather": "Index",
    "scatter_add": "IndexPut",
    "matmul": "Mm",
    "max": "Max",
    "min": "Min",
}
_TEMPLATE_NAMES: dict[str, str] = {}


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _template_names() -> dict[str, str]:
    """Expression text → op name, for every op-table row applied to tensors only."""
    if not _TEMPLATE_NAMES:
        from symgrad.ir.elementwise_ops import OPS, template

        for name, row in OPS.items():
            for arity in (1, 2, 3):
                try:
                    expr = template(row, (None,) * arity)
                except TypeError:
                    continue
                _TEMPLATE_NAMES.setdefault(ir.expr_key(expr), _camel(name))
    return _TEMPLATE_NAMES


def _elementwise_name(node: ir.Node) -> str:
    expr = node.expr
    if node.params.cast:
        return "ToCopy"
    if expr == ir.arg(0) and len(node.inputs) == 1:
        return "Expand" if node.output.shape != node.inputs[0].shape else "Clone"
    known = _template_names().get(ir.expr_key(expr))
    if known is not None:
        return known
    head = expr.func.__name__
    if expr.is_Add:
        return "Sub" if any(term.could_extract_minus_sign() for term in expr.args) else "Add"
    if expr.is_Mul:
        if len(expr.args) == 2 and -1 in expr.args:
            return "Neg"
        inverse = any(f.is_Pow and f.exp.is_negative for f in expr.args)
        return "Div" if inverse else "Mul"
    return {"Piecewise": "Where"}.get(head, _camel(head))


class GradFn:
    """The recorded op that made a tensor, as PyTorch's ``grad_fn`` (read-only).

    ``name()`` follows PyTorch's (``'MulBackward0'``) where symgrad can tell the op.
    """

    __slots__ = ("_node",)

    def __init__(self, node: ir.Node) -> None:
        self._node = node

    def name(self) -> str:
        node = self._node
        if node.primitive.name == "elementwise":
            op = _elementwise_name(node)
        else:
            op = _PRIMITIVE_NAMES.get(node.primitive.name, _camel(node.primitive.name))
        return f"{op}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object>"


def _grad_fn(self: Tensor) -> GradFn | None:
    """The op that made this tensor (``None`` for leaves and tensors not requiring grad)."""
    var = self._var
    if not self.requires_grad or var is None or var.producer is None:
        return None
    node = var.producer
    # An in-place update is recorded as a copy of the new value: name the op behind it.
    while (
        node.primitive.name == "elementwise"
        and node.expr == ir.arg(0)
        and not node.params.cast
        and len(node.inputs) == 1
        and node.inputs[0].shape == node.output.shape
        and node.inputs[0].producer is not None
    ):
        node = node.inputs[0].producer
    return GradFn(node)


# --- backward -------------------------------------------------------------------------


def _backward_accepting_retain_graph(run: Callable[[Tensor, Any], None]) -> Callable[..., None]:
    def backward(
        self: Tensor,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) · gradient into every leaf's ``.grad``.

        ``retain_graph`` is accepted and has no effect: symgrad keeps recorded graphs until
        they are unreachable, so a second ``backward()`` through the same graph works.
        """
        if create_graph:
            raise UnsupportedOpError(
                "backward(create_graph=True) is not supported; use "
                "sg.autograd.grad(outputs, inputs, create_graph=True) for higher derivatives"
            )
        if inputs is not None:
            raise UnsupportedOpError(
                "backward(inputs=...) is not supported; use sg.autograd.grad(outputs, inputs)"
            )
        run(self, gradient)

    backward.wrapped = run  # type: ignore[attr-defined]
    return backward


METHODS: dict[str, Callable[..., Any]] = {
    # conversions and devices
    "to": to,
    "type": type_,
    "type_as": lambda self, other: cast(self, other.dtype),
    "float": _converter(float32, "``self`` as float32."),
    "double": _converter(float64, "``self`` as float64."),
    "long": _converter(int64, "``self`` as int64."),
    "int": _converter(int64, "``self`` as an integer tensor (symgrad stores int64)."),
    "bool": _converter(bool_, "``self`` as bool."),
    "cpu": lambda self, memory_format=None: self,
    "cuda": _cuda,
    "contiguous": lambda self, memory_format=None: self,
    "is_contiguous": lambda self, memory_format=None: True,
    "nelement": lambda self: self.numel(),
    "new_zeros": _new(creation.zeros),
    "new_ones": _new(creation.ones),
    "new_empty": _new(creation.empty),
    "new_full": _new(creation.full),
    "new_tensor": _new_tensor,
    "multinomial": random.multinomial,
    # composite ops
    "t": composite.t,
    "pow": lambda self, exponent: elementwise("pow", self, exponent),
    "pow_": _in_place(lambda self, exponent: elementwise("pow", self, exponent)),
    "split": composite.split,
    "chunk": composite.chunk,
    "flip": composite.flip,
    "roll": composite.roll,
    "repeat": composite.repeat,
    "expand_as": composite.expand_as,
    "view_as": composite.view_as,
    "tril": composite.tril,
    "triu": composite.triu,
    "tril_": _in_place(composite.tril),
    "triu_": _in_place(composite.triu),
    "masked_fill": composite.masked_fill,
    "masked_fill_": _in_place(composite.masked_fill),
    "where": lambda self, condition, other: composite.where(condition, self, other),
    "all": composite.reduce_all,
    "any": composite.reduce_any,
    "logical_and": composite.logical_and,
    "logical_or": composite.logical_or,
    "logical_xor": composite.logical_xor,
    "logical_not": composite.logical_not,
    "__and__": lambda self, other: composite._logical("&", self, other),
    "__rand__": lambda self, other: composite._logical("&", other, self),
    "__or__": lambda self, other: composite._logical("|", self, other),
    "__ror__": lambda self, other: composite._logical("|", other, self),
    "__xor__": lambda self, other: composite._logical("^", self, other),
    "__rxor__": lambda self, other: composite._logical("^", other, self),
    "__invert__": lambda self: composite._logical("~", self),
    # random fills
    "normal_": random.normal_,
    "uniform_": random.uniform_,
}


def attach() -> None:
    """Give :class:`Tensor` these methods and properties (run once, on import)."""
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.device = property(lambda self: CPU, doc="Where the data lives: always the CPU.")
    Tensor.is_cuda = property(lambda self: False, doc="False: symgrad runs on the CPU.")
    Tensor.grad_fn = property(_grad_fn, doc=_grad_fn.__doc__)
    run = getattr(Tensor.backward, "wrapped", Tensor.backward)
    Tensor.backward = _backward_accepting_retain_graph(run)
