"""``sg.nn.utils``: gradient clipping, as ``torch.nn.utils``.

Example:
    >>> import symgrad as sg
    >>> w = sg.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> sg.nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(10.)
"""

from symgrad.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]
