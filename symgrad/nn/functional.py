"""``symgrad.nn.functional``: PyTorch's ``torch.nn.functional`` names, as a real module.

``import symgrad.nn.functional as F`` gives the activations, losses, layer functions
(``linear``, ``embedding``, ``layer_norm``, ``batch_norm``, ``dropout``, ``pad``),
convolution and pooling, and ``scaled_dot_product_attention``.  They are the front
end's functions (:mod:`symgrad.frontend.functional`, also ``sg.functional``): the
same objects, so they trace and differentiate like any other op.

Example:
    >>> import symgrad as sg
    >>> import symgrad.nn.functional as F
    >>> F.cross_entropy is sg.functional.cross_entropy
    True
    >>> F.conv2d(sg.ones(1, 1, 3, 3), sg.ones(2, 1, 2, 2)).shape
    (1, 2, 2, 2)
"""

from symgrad.frontend.functional import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    batch_norm,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    conv1d,
    conv2d,
    cross_entropy,
    dropout,
    embedding,
    gelu,
    l1_loss,
    layer_norm,
    leaky_relu,
    linear,
    log_softmax,
    max_pool1d,
    max_pool2d,
    mse_loss,
    nll_loss,
    pad,
    relu,
    scaled_dot_product_attention,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "pad",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
