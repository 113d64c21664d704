"""The runtime: eager ``backward()``, compiled functions and their per-signature runners.

``eager_backward`` compiles and runs the gradient kernel of a recorded graph;
``traced_backward`` records ``loss.backward()`` inside a traced function;
``compiled`` holds ``sg.compile``/``grad``/``value_and_grad``; ``runner`` the few
generated lines around each kernel call.  Importing this package registers
:func:`backward` with the front end, so ``Tensor.backward`` reaches it.
"""

from __future__ import annotations

from symgrad.frontend.tensor import Tensor, register_backward
from symgrad.runtime.eager_backward import eager_backward
from symgrad.runtime.traced_backward import traced_backward


def backward(t: Tensor, gradient=None) -> None:
    """``t.backward(gradient)``: recorded into the trace inside a traced function, else run."""
    if t.is_traced:
        traced_backward(t, gradient)
    else:
        eager_backward(t, gradient)


register_backward(backward)
