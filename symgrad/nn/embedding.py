"""``Embedding``: a lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

Example:
    >>> import symgrad as sg
    >>> _ = sg.manual_seed(0)
    >>> emb = sg.nn.Embedding(10, 3, padding_idx=0)
    >>> emb
    Embedding(10, 3, padding_idx=0)
    >>> emb(sg.tensor([[0, 4], [9, 4]])).shape
    (2, 2, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.dtypes import canonical, get_default_dtype
from symgrad.errors import ShapeError, UnsupportedOpError, shape_str
from symgrad.frontend.tensor import Tensor
from symgrad.nn import functional as F
from symgrad.nn import init
from symgrad.nn._helpers import check_device
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


def _padding_index(padding_idx: int | None, count: int) -> int | None:
    if padding_idx is None:
        return None
    if not -count <= padding_idx < count:
        raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings")
    return padding_idx % count


class Embedding(Module):
    """Rows of ``weight`` (``(num_embeddings, embedding_dim)``, drawn from ``N(0, 1)`` as in
    PyTorch) picked by an integer tensor of any shape; the output adds a last dim of size
    ``embedding_dim``.

    The ``padding_idx`` row (negative counts from the end) starts at zero and gets no
    gradient.  An index out of range is an ``IndexError``, a float index tensor a
    ``TypeError``.  ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not
    supported and raise ``UnsupportedOpError``; ``device`` may only be the CPU.

    Example:
        >>> import symgrad as sg
        >>> emb = Embedding.from_pretrained(sg.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> emb(sg.tensor([1, 1, 0]))
        tensor([[3., 4.],
                [3., 4.],
                [1., 2.]])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: object = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise UnsupportedOpError(
                "Embedding: max_norm, scale_grad_by_freq and sparse are not supported"
            )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            dtype = canonical(dtype) if dtype is not None else get_default_dtype()
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(
                    f"Embedding: _weight of shape {shape_str(tuple(_weight.shape))} does not "
                    f"match ({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Draw fresh weights in place from ``N(0, 1)`` (the generator
        :func:`symgrad.manual_seed` seeds); the padding row becomes zero.

        >>> emb = Embedding(3, 2, padding_idx=0)
        >>> emb.reset_parameters()
        >>> emb.weight.numpy()[0].tolist()
        [0.0, 0.0]
        """
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.numpy()[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        """``F.embedding(input, weight, padding_idx)``: for integer ``input`` of shape
        ``S``, a tensor of shape ``(*S, embedding_dim)``.

        >>> import symgrad as sg
        >>> Embedding(10, 3)(sg.tensor([[1, 2], [3, 4]])).shape
        (2, 2, 3)
        """
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        """The sizes (and ``padding_idx`` when set), as shown inside the repr.

        >>> Embedding(10, 3, padding_idx=-1).extra_repr()
        '10, 3, padding_idx=9'
        """
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (2-D, shared, not copied), frozen
        (``requires_grad=False``) unless ``freeze=False``.  A tensor of another rank raises
        ``ShapeError``.

        >>> import symgrad as sg
        >>> emb = Embedding.from_pretrained(sg.zeros(4, 2), freeze=False)
        >>> emb, emb.weight.requires_grad
        (Embedding(4, 2), True)
        """
        if embeddings.ndim != 2:
            raise ShapeError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got "
                f"{shape_str(tuple(embeddings.shape))}"
            )
        rows, dim = embeddings.shape
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )


__all__ = ["Embedding"]
