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

from symgrad.frontend.functional import *  # noqa: F403  (the names in its __all__)
from symgrad.frontend.functional import __all__  # noqa: F401  (one list, kept there)
