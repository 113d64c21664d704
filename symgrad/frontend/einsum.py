"""``einsum``: Einstein summation, lowered to permutes, reshapes, sums and matmuls.

Each pair of operands becomes one batched matmul (batch dims kept, summed dims
merged into the contracted one), so the gradient is that of matmul and the
kernels are BLAS calls.  Supported: explicit (``"ij,jk->ik"``) and implicit
(``"ij,jk"``) outputs, ``...``, any number of operands, size-1 broadcasting and
repeated subscripts in one operand (diagonals, ``"ii->i"``).

Example:
    >>> import symgrad as sg
    >>> a, b = sg.ones(2, 3), sg.ones(3, 4)
    >>> sg.einsum("ij,jk->ik", a, b).shape, sg.einsum("ij->i", a)
    ((2, 4), tensor([3., 3.]))
    >>> sg.einsum("i,j->ij", a[0], b[0]).shape
    (3, 4)
"""

from __future__ import annotations

from collections import Counter
from math import prod

from symgrad.errors import ShapeError
from symgrad.frontend import apply, shape_ops
from symgrad.frontend.apply import as_tensor
from symgrad.frontend.creation import arange
from symgrad.frontend.tensor import Tensor

Labels = list[str]  # one label per dim: a letter, or "...k" for the k-th broadcast dim


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the subscripts of ``equation`` (``torch.einsum``); operands may
    also come as one list."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a string, got {type(equation).__name__}")
    xs = [as_tensor(x) for x in operands]
    if not xs:
        raise ValueError("einsum(): must provide at least one operand")
    terms, output = _parse(equation, xs)
    sizes = _sizes(terms, xs)
    pairs = [_diagonals(x, labels) for x, labels in zip(xs, terms, strict=True)]
    pairs = [(_expand(x, labels, sizes), labels) for x, labels in pairs]
    counts = Counter(label for _, labels in pairs for label in labels)
    pairs = [_sum_unused(x, labels, counts, output) for x, labels in pairs]
    acc, labels = pairs[0]
    for k in range(1, len(pairs)):
        keep = set(output).union(*(later for _, later in pairs[k + 1 :]))
        acc, labels = _contract(acc, labels, *pairs[k], keep, sizes)
    acc, labels = _sum_unused(acc, labels, Counter(labels), output)
    order = [labels.index(label) for label in output]
    if order != list(range(len(order))):
        acc = shape_ops.permute(acc, order)
    return acc


def _parse(equation: str, xs: list[Tensor]) -> tuple[list[Labels], Labels]:
    text = equation.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(xs):
        raise ValueError(
            f"einsum(): {len(inputs)} operands in the equation {equation!r} but {len(xs)} given"
        )
    spans = [_ellipsis_span(term, x, equation) for term, x in zip(inputs, xs, strict=True)]
    width = max(spans)
    terms = [_labels(term, span, width, equation) for term, span in zip(inputs, spans, strict=True)]
    for labels, x in zip(terms, xs, strict=True):
        if len(labels) != x.ndim:
            raise ShapeError(
                f"einsum(): the subscripts {''.join(x for x in labels if len(x) == 1)!r} do not "
                f"match the {x.ndim} dims of an operand of shape {x.shape}"
            )
    seen = [label for labels in terms for label in labels]
    if arrow:
        output = _labels(rhs, width if "..." in rhs else 0, width, equation)
        for label in output:
            if label not in seen:
                raise ValueError(
                    f"einsum(): output subscript {label} does not appear in the inputs"
                )
        if len(set(output)) != len(output):
            raise ValueError(
                f"einsum(): an output subscript appears more than once in {equation!r}"
            )
    else:
        counts = Counter(seen)
        singles = sorted(label for label in counts if len(label) == 1 and counts[label] == 1)
        output = [f"...{k}" for k in range(width)] + singles
    return terms, output


def _ellipsis_span(term: str, x: Tensor, equation: str) -> int:
    if term.count("...") > 1 or term.replace("...", "").count(".") > 0:
        raise ValueError(f"einsum(): an operand may have one ellipsis (...), got {equation!r}")
    if "..." not in term:
        return 0
    span = x.ndim - (len(term) - 3)
    if span < 0:
        raise ShapeError(f"einsum(): {term!r} has more subscripts than the operand has dims")
    return span


def _labels(term: str, span: int, width: int, equation: str) -> Labels:
    labels: Labels = []
    head, dots, tail = term.partition("...")
    for part in (head, tail):
        for char in part:
            if not char.isascii() or not char.isalpha():
                raise ValueError(
                    "einsum(): subscripts must be letters in [a-zA-Z], "
                    f"got {char!r} in {equation!r}"
                )
    labels += list(head)
    if dots:
        labels += [f"...{k}" for k in range(width - span, width)]
    return labels + list(tail)


def _sizes(terms: list[Labels], xs: list[Tensor]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for k, (labels, x) in enumerate(zip(terms, xs, strict=True)):
        for label, n in zip(labels, x.shape, strict=True):
            seen = sizes.get(label, 1)
            if n != 1 and seen != 1 and n != seen:
                name = "..." if label.startswith("...") else label
                raise ShapeError(
                    f"einsum(): subscript {name} has size {n} for operand {k} which does not "
                    f"broadcast with previously seen size {seen}"
                )
            sizes[label] = seen if n == 1 else n
    return sizes


def _diagonals(x: Tensor, labels: Labels) -> tuple[Tensor, Labels]:
    """Repeated subscripts in one operand (``"ii"``) select its diagonal."""
    labels = list(labels)
    while len(set(labels)) != len(labels):
        label = next(lab for lab in labels if labels.count(lab) > 1)
        p = labels.index(label)
        q = labels.index(label, p + 1)
        if x.shape[p] != x.shape[q]:
            raise ShapeError(
                f"einsum(): subscript {label} is repeated for dims of sizes {x.shape[p]} and "
                f"{x.shape[q]}"
            )
        rest = [d for d in range(x.ndim) if d not in (p, q)]
        index = arange(x.shape[p])
        x = shape_ops.getitem(shape_ops.permute(x, [p, q, *rest]), (index, index))
        labels = [label] + [labels[d] for d in rest]
    return x, labels


def _expand(x: Tensor, labels: Labels, sizes: dict[str, int]) -> Tensor:
    target = tuple(sizes[label] for label in labels)
    return x if target == x.shape else shape_ops.broadcast_to(x, target)


def _sum_unused(x: Tensor, labels: Labels, counts: Counter, output: Labels):
    """Sum out the subscripts no other operand and not the output uses."""
    gone = [d for d, label in enumerate(labels) if counts[label] == 1 and label not in output]
    if not gone:
        return x, labels
    return apply.sum(x, tuple(gone)), [label for d, label in enumerate(labels) if d not in gone]


def _contract(a: Tensor, la: Labels, b: Tensor, lb: Labels, keep: set, sizes: dict[str, int]):
    """One batched matmul: ``a``'s and ``b``'s shared subscripts still needed stay as batch
    dims, the other shared ones are summed over."""
    batch = [label for label in la if label in lb and label in keep]
    summed = [label for label in la if label in lb and label not in keep]
    left = [label for label in la if label not in lb]
    right = [label for label in lb if label not in la]

    def arranged(x: Tensor, labels: Labels, first: Labels, second: Labels) -> Tensor:
        order = [labels.index(label) for label in batch + first + second]
        if order != list(range(len(order))):
            x = shape_ops.permute(x, order)
        merged = (
            *(sizes[label] for label in batch),
            prod(sizes[label] for label in first),
            prod(sizes[label] for label in second),
        )
        return shape_ops.reshape(x, merged)

    product = shape_ops.matmul(arranged(a, la, left, summed), arranged(b, lb, summed, right))
    out_labels = batch + left + right
    return shape_ops.reshape(product, tuple(sizes[label] for label in out_labels)), out_labels
