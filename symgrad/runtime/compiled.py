"""``compile``, ``grad``, ``value_and_grad``: trace once per signature, then call one kernel.

A signature is the shapes and dtypes of the arguments.  Arguments may be Tensors,
NumPy arrays or Python numbers, or nested tuples, lists and dicts of them (pytrees, as
in JAX: the structure is part of the signature, and a dict argument gets a dict of
gradients); results are Tensors in fresh arrays, in the structure the function returned.

Example:
    >>> import symgrad as sg
    >>> f = sg.grad(lambda a, b: (3*a**3 - b**2).sum(), argnums=(0, 1))
    >>> f(sg.tensor([2., 3.]), sg.tensor([6., 4.]))
    (tensor([36., 81.]), tensor([-12.,  -8.]))
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad import ir
from symgrad.compiler import autodiff, passes
from symgrad.dtypes import is_floating
from symgrad.errors import GradError, shape_str
from symgrad.frontend import pytree
from symgrad.frontend.creation import zeros_like
from symgrad.frontend.reach import find_paths
from symgrad.frontend.tensor import Tensor, leaf_var
from symgrad.frontend.trace import Traced, argument_names, trace
from symgrad.ir.size_rewrite import SizeGuards, free_sizes
from symgrad.recording import RECORDING
from symgrad.runtime.arguments import (
    arguments_tree,
    arrays_and_signature,
    as_tree_of_tensors,
    grad_positions,
    leaf_ranges,
)
from symgrad.runtime.runner import StaleCapture, make_runner
from symgrad.runtime.tiers import executable, requested_tier

MAX_SIGNATURES = 256  # traced signatures kept per function


def family(signature: tuple) -> tuple:
    """What a trace with symbolic sizes depends on: each argument's rank, which of its
    dims are 0 or 1, and its dtype (every other size is a symbol)."""
    return tuple(
        tuple(min(n, 2) for n in part) if isinstance(part, tuple) else part for part in signature
    )


@dataclass(frozen=True)
class Entry:
    """One compiled signature: its kernel, the runner that calls it, and its guards.

    ``guards`` are (check, expected) pairs on Python-side state the trace relied on
    (does a ``.grad`` exist, how far an optimizer's state is built); ``sizes`` says
    which argument shapes the trace holds for (see :mod:`symgrad.ir.sizes`).
    """

    kernel: Any  # a Kernel, InterpretedKernel or BackgroundKernel (see runtime.tiers)
    run: Callable[..., Any]
    guards: tuple = ()
    sizes: SizeGuards | None = None

    def holds(self) -> bool:
        return all(check() == expected for check, expected in self.guards)

    def fits(self, shapes: Sequence[tuple]) -> bool:
        """True when these argument shapes meet the trace's size guards."""
        return self.sizes is None or self.sizes.holds(shapes)


class CompiledFunction:
    """A function compiled to one kernel per argument signature.

    ``mode`` is ``"value"``, ``"grad"`` or ``"value_and_grad"``; ``tier`` is
    ``"background"``, ``"sync"`` or ``"interpret"`` (default: ``$SYMGRAD_COMPILE``,
    else ``"background"``; see :mod:`symgrad.runtime.tiers`).
    """

    def __init__(
        self,
        fn: Callable,
        mode: str = "value",
        argnums: int | Sequence[int] = 0,
        tier: str | None = None,
    ):
        functools.update_wrapper(self, fn)  # first: it copies fn's __dict__ over ours
        self.fn = fn
        self.mode = mode
        self.argnums = argnums
        self.tier = None if tier is None else requested_tier(tier)
        self._entries: dict[tuple, list[Entry]] = {}  # by exact shapes and dtypes
        self._families: dict[tuple, list[Entry]] = {}  # by rank, 0/1 dims and dtypes
        self._lock = threading.Lock()  # one trace at a time per function, whatever the threads

    def __call__(self, *args: Any) -> Any:
        if RECORDING.trace is not None or (self.mode == "value" and _records_gradients(args)):
            return self._inline(args)
        arrays, signature = arrays_and_signature(args, self.fn)
        entries = self._entries.get(signature)
        if entries:  # (empty while another thread traces this signature)
            entry = entries[0]
            if not entry.guards or entry.holds():
                try:
                    return entry.run(*arrays)
                except StaleCapture:  # a captured tensor was resized or retyped: trace again
                    self._forget(signature, entry)
        return self._entry_for(arrays, signature, len(args)).run(*arrays)

    def _forget(self, signature: tuple, entry: Entry) -> None:
        with self._lock:
            for table in (self._entries, self._families):
                for entries in table.values():
                    if entry in entries:
                        entries.remove(entry)

    def _entry(self, args: Sequence[Any]) -> Entry:
        arrays, signature = arrays_and_signature(args, self.fn)
        return self._entry_for(arrays, signature, len(args))

    def _entry_for(self, arrays: list[np.ndarray], signature: tuple, count: int) -> Entry:
        with self._lock:
            entries = self._entries.setdefault(signature, [])
            for k, entry in enumerate(entries):
                if entry.holds():
                    entries.insert(0, entries.pop(k))  # the last one that held goes first
                    return entry
            shapes = [a.shape for a in arrays]
            related = self._families.setdefault(family(signature), [])
            for entry in related:  # a trace for other sizes that holds for these too
                if entry.fits(shapes) and entry.holds():
                    entries.insert(0, entry)
                    return entry
            tree = arguments_tree(signature, count)
            entry = self._build([(a.shape, a.dtype) for a in arrays], tree)
            entries.insert(0, entry)
            related.insert(0, entry)
            for table in (self._entries, self._families):
                while len(table) > MAX_SIGNATURES:  # forget the oldest signatures
                    del table[next(iter(table))]
            return entry

    def _inline(self, args: Sequence[Any]) -> Any:
        """Called inside another traced function (or eagerly on tensors that require grad):
        record the function's ops where they are, so the result stays differentiable."""
        xs = [
            a if isinstance(a, Tensor) else as_tree_of_tensors(a, self.fn, args, i)
            for i, a in enumerate(args)
        ]
        if self.mode == "value":
            return self.fn(*xs)
        positions = grad_positions(self.argnums, len(xs))
        out = self.fn(*xs)
        if not isinstance(out, Tensor) or out.shape != () or not is_floating(out.dtype):
            raise GradError("grad needs a function that returns one scalar float tensor")
        one = ir.elementwise(sympy.Integer(1), [], shape=(), dtype=out.dtype)
        trees = [pytree.flatten(xs[i]) for i in positions]
        wrt = [leaf for leaves, _ in trees for leaf in leaves]
        grads = iter(autodiff.vjp([leaf_var(out)], [one], [leaf_var(x) for x in wrt]))
        results = []
        for leaves, tree in trees:
            values = []
            for leaf, g in zip(leaves, grads, strict=False):
                traced = None if g is None else Tensor(None, var=g, shape=g.shape, dtype=g.dtype)
                values.append(zeros_like(leaf) if traced is None else traced)
            results.append(pytree.unflatten(tree, values))
        packed = results[0] if isinstance(self.argnums, int) else tuple(results)
        return (out, packed) if self.mode == "value_and_grad" else packed

    def source(self, *args: Any) -> str:
        """The generated Numba kernel for these arguments' signature (traced if new), one
        line per value with its formula as a comment (example: :func:`compile`)."""
        return self._entry(args).kernel.source

    def graph(self, *args: Any) -> str:
        """The optimized IR (forward and gradients) for these arguments' signature, as text
        (printed in ``docs/compiled.md``)."""
        return self._entry(args).kernel.pretty()

    def status(self, *args: Any) -> str:
        """Which tier runs the function: ``"interpreter"``, ``"compiling in background"`` or
        ``"kernel"`` for these arguments' signature (traced if new) or the one called last;
        ``"not called yet"`` before any call (example: :func:`compile`)."""
        if args:
            return self._entry(args).kernel.tier
        for entries in reversed(self._entries.values()):
            if entries:
                return entries[0].kernel.tier
        return "not called yet"

    def trace_count(self) -> int:
        """How many traces (one kernel each) the function keeps: a new size of a symbolic
        dim reuses one, a new rank, dtype or 0/1 dim adds one (example: :func:`compile`)."""
        return sum(len(entries) for entries in self._families.values())

    def _build(self, specs: list[tuple], tree: pytree.TreeDef) -> Entry:
        tier = requested_tier(self.tier)
        names = argument_names(self.fn, len(tree.children))
        flat = all(child.kind == pytree.LEAF for child in tree.children)
        fn = self.fn if flat else _on_leaves(self.fn, tree)
        leaf_names = names if flat else pytree.leaf_names(names, tree.children)
        namespace: dict[str, Any] = {}
        if self.mode == "value":
            traced = trace(fn, specs, leaf_names, symbolic=True)
            graph = traced.graph
            items = [f"W(o{k})" for k in range(traced.n_results)]
            result = pytree.expression(traced.tree, items, namespace)
        else:
            positions = grad_positions(self.argnums, len(tree.children))
            ranges = leaf_ranges(tree)
            wanted = [i for p in positions for i in ranges[p]]
            wants = [i in wanted for i in range(len(specs))]
            traced = trace(fn, specs, leaf_names, requires_grad=wants, symbolic=True)
            shown = [
                f"{n}{p}"
                for n, t in zip(names, tree.children, strict=True)
                for p in pytree.leaf_paths(t)
            ]
            graph = self._gradient_graph(traced, specs, wanted, shown, tier != "interpret")
            result = self._grad_result(tree, positions, namespace)
        kernel = executable(graph, ["write"] * len(graph.outputs), traced.input_names, tier)
        recording = traced.recording
        tensors = [c if isinstance(c, Tensor) else None for c in traced.captured]
        run = make_runner(
            kernel,
            len(specs),
            traced.captured,
            result,
            traced.mutated,
            recording.before_call,
            recording.after_call,
            reached=(self.fn, find_paths(self.fn, tensors)),
            names=namespace,
            written=traced.written_args,
        )
        return Entry(kernel, run, tuple(recording.guards), traced.sizes)

    def _gradient_graph(
        self,
        traced: Traced,
        specs: list[tuple],
        positions: Sequence[int],
        shown: Sequence[str],
        fuse: bool,
    ) -> ir.Graph:
        if traced.structure != "single":
            raise GradError("grad needs a function that returns one scalar tensor")
        forward = passes.prepare_forward(traced.graph) if fuse else traced.graph
        out = forward.outputs[0]
        mutated = forward.outputs[1:]
        if out.shape != () or not is_floating(out.dtype):
            example = {s: specs[i][0][d] for s, i, d in free_sizes(forward)}  # this call's sizes
            shape = tuple(int(sympy.sympify(n).xreplace(example)) for n in out.shape)
            raise GradError(
                f"grad needs a scalar float output, got shape {shape_str(shape)} and dtype "
                f"{out.dtype}; reduce it first (e.g. .sum()) or use backward(gradient=...)"
            )
        for i in positions:
            if not is_floating(forward.inputs[i].dtype):
                raise GradError(
                    f"argument {shown[i]!r} has dtype {forward.inputs[i].dtype}; "
                    "gradients need float32/float64 arguments"
                )
        one = ir.elementwise(sympy.Integer(1), [], shape=(), dtype=out.dtype)
        wrt = [forward.inputs[i] for i in positions]
        grads = autodiff.vjp([out], [one], wrt)
        grads = [
            g
            if g is not None
            else ir.elementwise(sympy.Integer(0), [], shape=v.shape, dtype=v.dtype)
            for g, v in zip(grads, wrt, strict=True)
        ]
        outputs = ([out] if self.mode == "value_and_grad" else []) + grads + mutated
        return ir.Graph(forward.inputs, outputs)

    def _grad_result(
        self, tree: pytree.TreeDef, positions: Sequence[int], namespace: dict[str, Any]
    ) -> str:
        """The runner's result: one pytree of gradients per differentiated argument."""
        k = 1 if self.mode == "value_and_grad" else 0
        parts = []
        for p in positions:
            child = tree.children[p]
            parts.append(
                pytree.expression(child, [f"W(o{k + j})" for j in range(child.n_leaves)], namespace)
            )
            k += child.n_leaves
        grads = (
            parts[0]
            if isinstance(self.argnums, int)
            else "(" + "".join(f"{g}, " for g in parts) + ")"
        )
        return f"(W(o0), {grads})" if self.mode == "value_and_grad" else grads


def _on_leaves(fn: Callable, tree: pytree.TreeDef) -> Callable:
    """``fn`` called on leaves: rebuilds the argument pytrees first."""

    def call(*leaves: Tensor) -> Any:
        return fn(*pytree.unflatten(tree, leaves))

    return call


def _records_gradients(args: Sequence[Any]) -> bool:
    if not RECORDING.grad_enabled:
        return False
    for a in args:
        if isinstance(a, Tensor):
            if a.requires_grad:
                return True
        elif pytree.is_node(a):
            if any(isinstance(t, Tensor) and t.requires_grad for t in pytree.leaves(a)):
                return True
    return False


def compile(fn: Callable | None = None, *, tier: str | None = None) -> CompiledFunction:
    """Compile ``fn`` into one fused Numba kernel per argument signature, in the role of
    ``torch.compile`` (bare ``@sg.compile`` or called: ``sg.compile(fn, tier="sync")``).

    A signature is each argument's rank, dtype and which of its dims are 0 or 1; other
    sizes are symbols, so a new batch size reuses the trace.  Python runs ``fn`` once per
    signature, while tracing: its control flow and Python numbers are baked in, and an
    ``if``/``while``/``bool()`` on a traced value raises ``TraceError`` (use ``sg.where``).
    It traces again for a new signature, when Python reads a size as a number
    (``int(x.shape[0])``, ``range(len(x))``: the trace holds for that size only), when a
    tensor it captured is rebound or changes shape or dtype, or when Python state the
    trace read changes (a ``.grad`` appears, an optimizer builds its state).  Called
    inside another traced function, or eagerly on tensors that require grad, it records
    its ops inline instead, so ``backward()`` reaches them.

    ``tier`` (default ``$SYMGRAD_COMPILE``, else ``"background"``): ``"background"`` runs
    a new signature on the NumPy interpreter while a worker process compiles its kernel
    (results may then differ at rounding level), ``"sync"`` compiles before the first call
    returns, ``"interpret"`` never compiles.  ``f.status()`` says which runs,
    ``f.source(*args)`` shows the kernel and ``f.graph(*args)`` the IR.

    >>> import symgrad as sg
    >>> @sg.compile(tier="sync")
    ... def f(a, b):
    ...     return 3*a**3 - b**2
    >>> x, y = sg.tensor([2., 3.]), sg.tensor([6., 4.])
    >>> f(x, y), f(sg.ones(5), sg.ones(5)), f.trace_count(), f.status()
    (tensor([-12.,  65.]), tensor([2., 2., 2., 2., 2.]), 1, 'kernel')
    >>> print(f.source(x, y).splitlines()[-2])
            e_t0 = 3.0*(e_a*e_a*e_a) - (e_b*e_b)
    """
    if fn is None:
        return lambda f: CompiledFunction(f, "value", tier=tier)
    return CompiledFunction(fn, "value", tier=tier)


def grad(
    fn: Callable, argnums: int | Sequence[int] = 0, *, tier: str | None = None
) -> CompiledFunction:
    """The compiled gradient of scalar-valued ``fn`` with respect to ``argnums`` (int or tuple),
    as ``torch.func.grad``: one kernel computes it, traced and retraced as in :func:`compile`.

    An argument may be a pytree (nested tuples, lists and dicts of tensors, arrays and
    numbers); its gradient is a pytree of the same structure, as with ``jax.grad``.
    ``fn`` must return one scalar float tensor and the arguments differentiated must be
    float, else ``GradError``.

    >>> import numpy as np, symgrad as sg
    >>> loss = lambda p, x: ((x @ p["w"] + p["b"]) ** 2).sum()
    >>> sg.grad(loss)({"w": np.ones((2, 1)), "b": np.zeros(1)}, np.array([[1.0, 2.0]]))
    {'b': tensor([6.]), 'w': tensor([[ 6.],
            [12.]])}
    """
    return CompiledFunction(fn, "grad", argnums, tier)


def value_and_grad(
    fn: Callable, argnums: int | Sequence[int] = 0, *, tier: str | None = None
) -> CompiledFunction:
    """Like :func:`grad` but returns ``(value, gradient)`` from one kernel, as
    ``torch.func.grad_and_value`` (in the other order) and ``jax.value_and_grad``.

    >>> import symgrad as sg
    >>> sg.value_and_grad(lambda d: (d["a"] * d["b"]).sum())({"a": 2.0, "b": 3.0})
    (tensor(6.), {'a': tensor(3.), 'b': tensor(2.)})
    """
    return CompiledFunction(fn, "value_and_grad", argnums, tier)
