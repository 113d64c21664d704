"""The compiler: autodiff, graph passes, code generation and the kernel cache.

``autodiff`` derives gradient graphs, ``passes`` fuses and merges work,
``codegen`` writes Numba source, ``backend`` keeps kernels on disk, and ``build``
runs them in that order: :func:`symgrad.compiler.build.build` turns a graph into a
callable :class:`~symgrad.compiler.build.Kernel`.
"""
