"""Code for the structured ops that are not loops over one shape: one emitter per op.

Each emitter gets the kernel writer and the node, and writes the lines that
compute the node's output array: BLAS ``np.dot`` for matmul, views for
permute and reshape, index loops (bounds-checked) for gather and scatter-add.

Example (the lines for ``t2 = matmul(a, b)`` with ``a: (2, 3)``, ``b: (3, 4)``)::

    t2 = np.empty((2, 4), np.float64)
    np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b), t2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from symgrad import ir
from symgrad.codegen.schedule import view_base
from symgrad.errors import UnsupportedOpError


def operand(w: Any, var: ir.Var) -> str:
    """An array name with ``var``'s shape; a view gets a real reshape, once, outside loops."""
    base = view_base(var, w.views)
    if base is var:
        return w.array(var)
    name = f"v_{w.names[id(var)]}"
    if name not in w.view_names:
        w.view_names.add(name)
        w.emit(1, f"{name} = np.ascontiguousarray({w.array(base)}).reshape({var.shape})")
    return name


def loop_nest(w: Any, shape: tuple[int, ...], prefix: str = "i", reads=()) -> int:
    """Open ``for`` loops over ``shape`` (after naming the ``reads``); returns the body's indent."""
    for var in reads:
        operand(w, var)
    indent = 1
    for d, n in enumerate(shape):
        w.emit(indent, f"for {prefix}{d} in range({n}):")
        indent += 1
    return indent


def _index(parts: list[str]) -> str:
    return ", ".join(parts) if parts else "()"


def emit_matmul(w: Any, node: ir.Node) -> None:
    a, b = node.inputs
    out = node.output
    if out.dtype.kind != "f":
        raise UnsupportedOpError(
            f"matmul of {a.dtype} tensors {a.shape} and {b.shape} is not supported; "
            "convert them with .double() or .float() first"
        )
    target = w.allocate(out)
    operands = []
    for var in (a, b):
        text = operand(w, var)
        if var.dtype != out.dtype:
            text = f"{text}.astype(np.{out.dtype.name})"
        operands.append(text)
    batch = out.shape[:-2]
    if not batch:
        w.emit(
            1,
            f"np.dot({_contiguous(w, a, operands[0])}, {_contiguous(w, b, operands[1])}, {target})",
        )
        return
    for name, text in zip(("ma", "mb"), operands, strict=True):
        w.emit(1, f"{name}_{w.names[id(out)]} = {text}")
    indent = loop_nest(w, batch, "ib")
    lead = len(batch)
    picks = []
    for name, var in zip(("ma", "mb"), (a, b), strict=True):
        extra = len(batch) - (var.ndim - 2)
        idx = ["0" if var.shape[d] == 1 else f"ib{d + extra}" for d in range(var.ndim - 2)]
        picks.append(f"np.ascontiguousarray({name}_{w.names[id(out)]}[{_index(idx)}])")
    where = ", ".join(f"ib{d}" for d in range(lead))
    w.emit(indent, f"np.dot({picks[0]}, {picks[1]}, {target}[{where}])")


def _contiguous(w: Any, var: ir.Var, text: str) -> str:
    producer = var.producer
    if producer is not None and producer.op == "permute" and var.ndim == 2:
        return text  # a .T view: Fortran order, which BLAS takes as it is
    return f"np.ascontiguousarray({text})"


def emit_permute(w: Any, node: ir.Node) -> None:
    (axes,) = node.params
    source = operand(w, node.inputs[0])
    view = f"{source}.T" if len(axes) == 2 else f"np.transpose({source}, {axes})"
    w.emit(1, f"{w.array(node.output)} = {view}")


def emit_reshape(w: Any, node: ir.Node) -> None:
    source = operand(w, node.inputs[0])
    w.emit(
        1, f"{w.array(node.output)} = np.ascontiguousarray({source}).reshape({node.output.shape})"
    )


def _source_index(w: Any, node: ir.Node, x_shape, loop_shape, indent: int) -> list[str]:
    """Index expressions into the gathered array, with bounds checks on index arrays."""
    sources, adv_start, adv_ndim = node.params[:3]
    arrays = node.inputs[1:]
    parts = []
    for dim, source in enumerate(sources):
        kind = source[0]
        if kind == "slice":
            _, start, step, out_dim = source
            parts.append(f"{start} + {step} * i{out_dim}" if step != 1 else f"{start} + i{out_dim}")
        elif kind == "int":
            parts.append(str(source[1]))
        else:
            idx_var = arrays[source[1]]
            lead = adv_ndim - idx_var.ndim
            at = [
                "0" if n == 1 else f"i{adv_start + lead + d}" for d, n in enumerate(idx_var.shape)
            ]
            size = x_shape[dim]
            j = f"ij{dim}"
            w.emit(indent, f"{j} = {operand(w, idx_var)}[{_index(at)}]")
            w.emit(indent, f"if {j} < 0:")
            w.emit(indent + 1, f"{j} += {size}")
            w.emit(indent, f"if {j} < 0 or {j} >= {size}:")
            w.emit(
                indent + 1,
                f'raise IndexError("index out of range for dim {dim} of size {size} in getitem")',
            )
            parts.append(j)
    return parts


def emit_gather(w: Any, node: ir.Node) -> None:
    x = node.inputs[0]
    out = node.output
    target = w.allocate(out)
    indent = loop_nest(w, out.shape, reads=node.inputs)
    src = _source_index(w, node, x.shape, out.shape, indent)
    here = [f"i{d}" for d in range(out.ndim)]
    w.emit(indent, f"{target}[{_index(here)}] = {operand(w, x)}[{_index(src)}]")


def emit_scatter_add(w: Any, node: ir.Node) -> None:
    g = node.inputs[0]
    out = node.output
    target = w.allocate(out, fill="0")
    indent = loop_nest(w, g.shape, reads=node.inputs)
    dst = _source_index(w, node, out.shape, g.shape, indent)
    here = [f"i{d}" for d in range(g.ndim)]
    w.emit(indent, f"{target}[{_index(dst)}] += {operand(w, g)}[{_index(here)}]")


def emit_concat(w: Any, node: ir.Node) -> None:
    (dim,) = node.params
    target = w.allocate(node.output)
    offset = 0
    for x in node.inputs:
        parts = [":"] * x.ndim
        parts[dim] = f"{offset}:{offset + x.shape[dim]}"
        w.emit(1, f"{target}[{', '.join(parts)}] = {operand(w, x)}")
        offset += x.shape[dim]


def _emit_arg_extreme(w: Any, node: ir.Node, better: str) -> None:
    x = node.inputs[0]
    axis, keepdim = node.params
    out = node.output
    target = w.allocate(out)
    name = w.names[id(out)]
    source = operand(w, x)
    shape = (
        (1,) * x.ndim
        if axis is None
        else tuple(1 if d == axis else n for d, n in enumerate(x.shape))
    )
    w.emit(1, f"best_{name} = np.full({shape}, np.nan)")
    w.emit(1, f"seen_{name} = np.zeros({shape}, np.bool_)")
    w.emit(1, f"flat_{name} = 0")
    indent = loop_nest(w, x.shape, reads=[x])
    here = [f"i{d}" for d in range(x.ndim)]
    at = ["0" if axis is None or d == axis else f"i{d}" for d in range(x.ndim)]
    pos = f"flat_{name}" if axis is None else f"i{axis}"
    cell = f"[{_index(at)}]"
    val, cur = f"val_{name}", f"cur_{name}"
    w.emit(indent, f"{val} = {source}[{_index(here)}]")
    w.emit(indent, f"{cur} = best_{name}{cell}")
    w.emit(
        indent,
        f"if not seen_{name}{cell} or "
        f"({cur} == {cur} and ({val} {better} {cur} or {val} != {val})):",
    )
    w.emit(indent + 1, f"best_{name}{cell} = {val}")
    w.emit(indent + 1, f"seen_{name}{cell} = True")
    kept = at if keepdim else [a for d, a in enumerate(at) if not (axis is None or d == axis)]
    w.emit(indent + 1, f"{target}[{_index(kept if axis is not None or keepdim else [])}] = {pos}")
    if axis is None:
        w.emit(indent, f"flat_{name} += 1")


def emit_argmax(w: Any, node: ir.Node) -> None:
    _emit_arg_extreme(w, node, ">")


def emit_argmin(w: Any, node: ir.Node) -> None:
    _emit_arg_extreme(w, node, "<")


EMITTERS: dict[str, Callable[[Any, ir.Node], None]] = {
    "matmul": emit_matmul,
    "permute": emit_permute,
    "reshape": emit_reshape,
    "gather": emit_gather,
    "scatter_add": emit_scatter_add,
    "concat": emit_concat,
    "argmax": emit_argmax,
    "argmin": emit_argmin,
}
