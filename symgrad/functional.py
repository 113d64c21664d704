"""``sg.functional``: activations and losses with PyTorch's names (also ``sg.nn.functional``).

This is the front end's :mod:`symgrad.frontend.functional`, under its public name.

Example:
    >>> import symgrad.functional as F
    >>> F.relu(F.tanh([-1.0, 2.0])).shape
    (2,)
"""

import sys

from symgrad.frontend import functional as _functional

sys.modules[__name__] = _functional
