"""Run a Python function on abstract tensors (shape + dtype, no values) and record its graph.

Tensors the function closes over (Parameters, data) are *captured*: each
becomes a graph input whose current array is read at every call, never a
baked-in constant.  Python numbers stay constants.

Example:
    >>> import numpy as np
    >>> t = trace(lambda a, b: 3*a**3 - b**2, [((2,), np.dtype('float64'))] * 2, ["a", "b"])
    >>> print(t.graph.pretty(t.input_names))
    { lambda a:f64[2] b:f64[2] .
      let t0:f64[2] = a**3
          t1:f64[2] = 3*t0
          t2:f64[2] = b**2
          t3:f64[2] = t1 - t2
      in (t3) }
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.errors import TraceError
from symgrad.frontend.identity import IdentityDict
from symgrad.frontend.pytree import LEAF_DEF, TreeDef, flatten
from symgrad.frontend.tensor import Tensor
from symgrad.ir.size_rewrite import SizeGuards, finalize
from symgrad.ir.sizes import SizeEnv
from symgrad.recording import RECORDING

ArgSpec = tuple[tuple[int, ...], np.dtype]


class Trace:
    """The recording context: captured tensors, those the function changes, guards, hooks.

    ``captured`` maps each concrete tensor the function read to its input Var;
    ``current`` holds the latest traced value of a captured tensor that an
    in-place op changed (``mutated`` lists them with their final values).
    ``guards`` are checks of Python-side facts (does a ``.grad`` exist, how far
    an optimizer's state is built) that the recorded
    graph assumed; ``before_call`` hooks refresh runtime scalars (learning rates)
    and ``after_call`` hooks re-attach tensors created while tracing.
    """

    def __init__(self) -> None:
        self.captured: IdentityDict[Tensor, ir.Var] = IdentityDict()
        self.getters: IdentityDict[Tensor, Callable[[], Tensor]] = IdentityDict()
        self.current: IdentityDict[Tensor, ir.Var] = IdentityDict()
        self.written_grads: IdentityDict[Tensor, Tensor | None] = IdentityDict()
        self.guards: list[tuple[Callable[[], object], object]] = []
        self.guarded: set[tuple] = set()
        self.before_call: list[Callable[[], None]] = []
        self.after_call: list[Callable[[], None]] = []
        self.created: IdentityDict[Tensor, bool] = IdentityDict()

    def created_here(self, tensor: Tensor) -> None:
        """``tensor`` was made by a creation function while tracing (``sg.zeros(3)``): each
        call starts from its value then, whatever in-place ops did to it since."""
        self.created[tensor] = True

    def initial(self, tensor: Tensor) -> Tensor | Callable[[], Tensor]:
        """What a runner reads for captured ``tensor`` at each call: a copy of a tensor
        created while tracing (written back to, it would carry values across calls),
        else :meth:`source`."""
        if tensor in self.created and tensor not in self.getters:
            return Tensor(tensor._value.copy())
        return self.source(tensor)

    def capture(self, tensor: Tensor) -> ir.Var:
        current = self.current.get(tensor)
        if current is not None:
            return current
        var = self.captured.get(tensor)
        if var is None:
            var = self.captured[tensor] = ir.Var(tensor.shape, tensor.dtype, origin=tensor)
        return var

    def assign(self, tensor: Tensor, var: ir.Var) -> None:
        """Record that captured ``tensor`` now holds ``var`` (written back after each call)."""
        self.capture(tensor)
        self.current[tensor] = var

    def reached_through(self, tensor: Tensor, getter: Callable[[], Tensor]) -> None:
        """``tensor`` was read as ``getter()`` (``p.grad``): read it that way at every call,
        unless the function itself put it there (then it is the same object every call)."""
        if tensor in self.getters:
            return
        if any(leaf._grad is tensor for leaf in self.written_grads):
            return
        self.getters[tensor] = getter

    def source(self, tensor: Tensor) -> Tensor | Callable[[], Tensor]:
        """How a runner finds ``tensor`` at call time: the object, or the getter it came from."""
        return self.getters.get(tensor, tensor)

    def grad_written(self, tensor: Tensor) -> None:
        """``tensor.grad`` is about to be set: remember what it held when the call began."""
        if tensor not in self.written_grads:
            self.written_grads[tensor] = tensor._grad

    def written_so_far(self) -> frozenset[int]:
        """Ids of the leaves whose ``.grad`` the function has set up to now."""
        return frozenset(id(leaf) for leaf in self.written_grads)

    def finish_grads(self) -> None:
        """Replay, after every call, where the function left each ``.grad`` it set (None,
        or a tensor: a traced value gets an array of its own, written by the kernel)."""
        for leaf, entry in self.written_grads.items():
            final = leaf._grad
            if final is not None and final._value is None:
                holder = Tensor(np.zeros(leaf.shape, leaf.dtype))
                self.assign(holder, final._var)
                final = holder
            if final is not None and final is entry and final in self.getters:
                final = self._entry_value(self.getters[final])
            self.after_call.append(lambda leaf=leaf, final=final: _set_grad(leaf, final))

    def _entry_value(self, getter: Callable[[], Tensor]) -> Callable[[], Tensor]:
        """A function returning what ``getter()`` gave when the current call began."""
        box: list[Tensor] = []

        def remember() -> None:
            box[:] = [getter()]

        self.before_call.append(remember)
        return lambda: box[0]

    def restore_grads(self) -> None:
        """Put back the ``.grad`` of every leaf the trace set (the trace ran no real call)."""
        for leaf, entry in self.written_grads.items():
            leaf._grad = entry

    def guard(self, check: Callable[[], object]) -> None:
        """The recorded graph holds only while ``check()`` returns what it returns now."""
        self.guards.append((check, check()))

    def guard_once(self, key: tuple, check: Callable[[], object]) -> None:
        """:meth:`guard`, once per ``key`` in this trace (a module called twice)."""
        if key not in self.guarded:
            self.guarded.add(key)
            self.guard(check)

    def mutated(self) -> list[tuple[Tensor, ir.Var]]:
        """Captured tensors whose value the function changed, with their final Vars."""
        return [
            (tensor, self.current[tensor])
            for tensor, var in self.captured.items()
            if tensor in self.current and self.current[tensor] is not var
        ]


@dataclass
class Traced:
    """A recorded function: its graph (arguments, then captured tensors, as inputs).

    The graph's outputs are the function's results, then the new values of
    ``mutated`` (captured tensors changed in place), then those of the arguments the
    function changed in place (``written_args``), in that order.
    """

    graph: ir.Graph
    input_names: list[str]
    captured: list  # Tensors, or getters returning the Tensor to read at each call
    structure: str  # "single", "tuple", "list", "none" or "tree": how to pack the outputs
    n_results: int
    mutated: list  # Tensors (or getters) that receive the new values, in output order
    recording: Trace
    sizes: SizeGuards | None = None  # with symbolic sizes: what the argument shapes must meet
    tree: TreeDef = LEAF_DEF  # the structure of the results (a pytree of the outputs)
    written_args: list[int] = field(default_factory=list)  # arguments changed in place


def argument_names(fn: Callable, count: int) -> list[str]:
    """Parameter names of ``fn`` for ``count`` positional arguments (``x0, x1, ...`` if unknown)."""
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    names = params[:count]
    for i in range(len(names), count):
        name = f"x{i}"
        while name in names:
            name += "_"
        names.append(name)
    return names


def trace(
    fn: Callable,
    specs: Sequence[ArgSpec],
    names: Sequence[str],
    requires_grad: Sequence[bool] | None = None,
    symbolic: bool = False,
) -> Traced:
    """Record ``fn`` called on abstract tensors with the given shapes and dtypes.

    With ``symbolic``, every argument dimension other than 0 or 1 is a size symbol
    (see :mod:`symgrad.ir.sizes`): the graph then holds for every argument shape that
    meets ``Traced.sizes``.
    """
    requires_grad = requires_grad or [False] * len(specs)
    env = SizeEnv() if symbolic else None
    args = []
    for i, ((shape, dtype), rg) in enumerate(zip(specs, requires_grad, strict=True)):
        if env is not None:
            shape = tuple(n if n < 2 else env.dim(i, d, n) for d, n in enumerate(shape))
        var = ir.Var(shape, dtype)
        args.append(Tensor(None, rg, var=var, shape=shape, dtype=dtype))
    arg_vars = [a._var for a in args]
    recording = Trace()
    previous, RECORDING.trace = RECORDING.trace, recording
    try:
        result = fn(*args)
        outputs, structure, tree = _flatten(result)
        out_vars = [_output_var(t, recording) for t in outputs]
        recording.finish_grads()
    finally:
        RECORDING.trace = previous
        recording.restore_grads()
    mutated = recording.mutated()
    captured = recording.captured.items()
    inputs = arg_vars + [var for _, var in captured]
    cap_names = [f"cap{k}" for k in range(len(captured))]
    written = [
        i for i, (a, var) in enumerate(zip(args, arg_vars, strict=True)) if a._var is not var
    ]
    new_values = [var for _, var in mutated] + [args[i]._var for i in written]
    graph = ir.Graph(inputs, out_vars + new_values)
    sizes = None if env is None else finalize(env, graph)
    return Traced(
        graph,
        [*names, *cap_names],
        [recording.initial(t) for t, _ in captured],
        structure,
        len(out_vars),
        [recording.source(t) for t, _ in mutated],
        recording,
        sizes,
        tree,
        written,
    )


def _set_grad(leaf: Tensor, final: Tensor | Callable[[], Tensor] | None) -> None:
    leaf._grad = final() if callable(final) else final


def _flatten(result: Any) -> tuple[list[Tensor], str, TreeDef]:
    """The result's Tensors, how to pack them (a name for the simple cases), its tree."""
    outputs, tree = flatten(result)
    bad = next((leaf for leaf in outputs if not isinstance(leaf, Tensor)), None)
    if bad is not None:
        inside = "" if bad is result else f" inside a {type(result).__name__}"
        raise TraceError(
            "a compiled function must return a Tensor or a (nested) tuple, list or dict of "
            f"Tensors, got {type(bad).__name__}{inside}"
        )
    if tree.kind in ("leaf", "none"):
        structure = "single" if tree.kind == "leaf" else "none"
    elif tree.kind in ("tuple", "list") and all(c.kind == "leaf" for c in tree.children):
        structure = tree.kind
    else:
        structure = "tree"
    return outputs, structure, tree


def _output_var(t: Tensor, recording: Trace) -> ir.Var:
    return t._var if t._value is None else recording.capture(t)
