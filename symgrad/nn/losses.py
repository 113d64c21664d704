"""Loss Modules with PyTorch's constructor arguments, delegating to :mod:`symgrad.functional`.

``weight`` and ``pos_weight`` are registered as buffers (so they appear in
``state_dict`` and follow ``to(dtype)``), as in PyTorch.  The legacy
``size_average``/``reduce`` arguments map to ``reduction`` the way PyTorch maps them.

Example:
    >>> import symgrad as sg
    >>> loss = sg.nn.MSELoss()
    >>> loss(sg.tensor([1.0, 2.0]), sg.tensor([1.0, 4.0]))
    tensor(2.)
"""

from __future__ import annotations

from typing import Any

from symgrad.frontend import functional
from symgrad.frontend.creation import tensor as _tensor
from symgrad.frontend.tensor import Tensor
from symgrad.nn.module import Module


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _as_buffer(value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    return _tensor(value)


class _Loss(Module):
    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))


class MSELoss(_Loss):
    """Mean squared error ``(input - target) ** 2``, reduced by ``reduction``: ``'mean'``
    (default), ``'sum'`` or ``'none'`` (another value raises ``ValueError`` when called).

    A ``target`` of another shape is broadcast against ``input`` with a ``UserWarning``,
    as in PyTorch.

    >>> import symgrad as sg
    >>> MSELoss(reduction="sum")(sg.tensor([0.0, 0.0]), sg.tensor([1.0, 2.0]))
    tensor(5.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """``F.mse_loss(input, target, reduction=self.reduction)``.

        >>> import symgrad as sg
        >>> MSELoss(reduction="none")(sg.tensor([1.0, 2.0]), sg.tensor([0.0, 0.0]))
        tensor([1., 4.])
        """
        return functional.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``, reduced by ``reduction`` as in
    :class:`MSELoss` (same-shape inputs only).

    >>> import symgrad as sg
    >>> L1Loss()(sg.tensor([0.0, 0.0]), sg.tensor([1.0, -3.0]))
    tensor(2.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """``F.l1_loss(input, target, reduction=self.reduction)``.

        >>> import symgrad as sg
        >>> L1Loss(reduction="sum")(sg.tensor([1.0, -2.0]), sg.tensor([0.0, 0.0]))
        tensor(3.)
        """
        return functional.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class labels: the input holds log-probabilities
    ``(N, C)`` (or ``(C,)``), the target class indices ``(N,)``.

    ``weight`` (one per class, a buffer) weighs each sample's term, and the ``'mean'``
    divides by the sum of the weights used; targets equal to ``ignore_index`` count for
    nothing.

    >>> import symgrad as sg
    >>> NLLLoss()(sg.tensor([[-1.0, -2.0], [-3.0, -4.0]]), sg.tensor([0, 1]))
    tensor(2.5)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """``F.nll_loss`` with the layer's ``weight``, ``ignore_index`` and ``reduction``.

        >>> import symgrad as sg
        >>> NLLLoss(ignore_index=1)(sg.tensor([[-1.0, -2.0], [-3.0, -4.0]]), sg.tensor([0, 1]))
        tensor(1.)
        """
        return functional.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits ``(N, C)`` (or ``(C,)``) against class labels ``(N,)`` or
    class probabilities ``(N, C)``: ``log_softmax`` then :class:`NLLLoss`'s rules, with
    ``label_smoothing`` as in PyTorch.

    >>> import symgrad as sg
    >>> CrossEntropyLoss()(sg.tensor([[0.0, 0.0]]), sg.tensor([1]))
    tensor(0.69314718)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """``F.cross_entropy`` with the layer's settings; a float target holds
        probabilities.

        >>> import symgrad as sg
        >>> CrossEntropyLoss()(sg.tensor([[0.0, 0.0]]), sg.tensor([[0.0, 1.0]]))
        tensor(0.69314718)
        """
        return functional.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities in ``[0, 1]`` against targets of the same
    shape (each log clamped at -100, as in PyTorch); ``weight`` multiplies each term.

    >>> import symgrad as sg
    >>> BCELoss()(sg.tensor([0.5]), sg.tensor([1.0]))
    tensor(0.69314718)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """``F.binary_cross_entropy`` with the layer's ``weight`` and ``reduction``.

        >>> import symgrad as sg
        >>> BCELoss(reduction="sum")(sg.tensor([0.5, 0.5]), sg.tensor([1.0, 0.0]))
        tensor(1.38629436)
        """
        return functional.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits, computed stably (no sigmoid then log);
    ``weight`` multiplies each term and ``pos_weight`` (per class, broadcast over the
    last dim) the positive ones.  Both are buffers.

    >>> import symgrad as sg
    >>> BCEWithLogitsLoss()(sg.tensor([0.0]), sg.tensor([1.0]))
    tensor(0.69314718)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """``F.binary_cross_entropy_with_logits`` with the layer's settings.

        >>> import symgrad as sg
        >>> BCEWithLogitsLoss(pos_weight=sg.tensor([2.0]))(sg.tensor([0.0]), sg.tensor([1.0]))
        tensor(1.38629436)
        """
        return functional.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss"]
