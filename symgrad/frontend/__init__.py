"""The front end: ``Tensor``, creation functions, public math, ``functional``, tracing.

``tensor`` holds the Tensor's data; ``apply`` applies ops (elementwise rows by
name, structured primitives through their rules); ``shape_ops``, ``reductions``,
``creation``, ``math`` and ``functional`` are the functions users call;
``tensor_methods`` attaches operators and methods to Tensor; ``trace`` records a
Python function on abstract tensors.
"""

from symgrad.frontend import tensor_methods  # noqa: F401  (attaches Tensor's methods)
