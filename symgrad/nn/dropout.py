"""``Dropout``: random zeroing of activations in training mode, as ``torch.nn.Dropout``.

Example:
    >>> import symgrad as sg
    >>> _ = sg.manual_seed(0)
    >>> drop = sg.nn.Dropout(p=0.25)
    >>> drop
    Dropout(p=0.25, inplace=False)
    >>> drop(sg.ones(2, 3)).shape, drop.eval()(sg.ones(2)).tolist()
    ((2, 3), [1.0, 1.0])
"""

from __future__ import annotations

from symgrad.frontend.nn_functional import dropout
from symgrad.frontend.tensor import Tensor
from symgrad.nn.module import Module


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by
    ``1/(1-p)``; in ``eval()`` mode (or with ``p=0``) the input passes through.

    The mask is drawn from the generator :func:`symgrad.manual_seed` seeds (the masks
    differ from PyTorch's).  Inside :func:`symgrad.compile` the mask is an input of the
    kernel that is drawn afresh before every call, so each compiled step sees a new
    mask.  A compiled function traced in one mode traces again after ``eval()`` or
    ``train()`` switches it (each module's ``training`` is a guard of the trace), and
    keeps both traces.  ``p`` outside ``[0, 1]`` raises
    ``ValueError``; ``inplace`` is accepted for compatibility, and the result is a new
    tensor.

    Example:
        >>> import symgrad as sg
        >>> drop = Dropout(p=0.5)
        >>> drop.eval()(sg.ones(3))
        tensor([1., 1., 1.])
        >>> sorted(set(drop.train()(sg.ones(1000)).tolist()))
        [0.0, 2.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """``input`` times a fresh mask of ``0`` and ``1/(1-p)`` in training mode;
        ``input`` itself in eval mode or with ``p=0`` (:func:`symgrad.nn.functional.dropout`).

        >>> import symgrad as sg
        >>> x = sg.ones(4)
        >>> Dropout(p=0.0)(x) is x, Dropout(p=1.0)(x)
        (True, tensor([0., 0., 0., 0.]))
        """
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        """``p`` and ``inplace``, as shown inside the repr.

        >>> Dropout(0.1).extra_repr()
        'p=0.1, inplace=False'
        """
        return f"p={self.p}, inplace={self.inplace}"


__all__ = ["Dropout"]
