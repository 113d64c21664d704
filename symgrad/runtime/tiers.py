"""Which tier runs a graph: the NumPy interpreter, a compiled kernel, or the first until the
second is ready.

``SYMGRAD_COMPILE`` (or ``tier=`` on :func:`symgrad.compile`) chooses:

- ``background`` (the default): calls run at once on the interpreter while a worker
  process compiles the kernel into the disk cache; the next call after it is ready
  runs the kernel.  Results may differ at rounding level across the switch.
- ``sync``: compile first, then always run the kernel (bit-reproducible runs).
- ``interpret``: never compile.

A worker that dies or a kernel that fails to build leaves the function on the
interpreter with one warning, never a wrong result.  Workers are plain subprocesses
(``runtime/worker.py``), kept while there is work (``runtime/worker_pool.py``), fed
each kernel file and the exact argument types, and killed when this process exits.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> x = ir.Var((3,), np.dtype('float64'))
    >>> run = executable(ir.Graph([x], [ir.elementwise(2 * ir.arg(0), [x])]), ["write"], ["x"],
    ...                  "interpret")
    >>> out = np.empty(3); run(np.arange(3.0), out); run.tier, out
    ('interpreter', array([0., 2., 4.]))
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.compiler.backend import write_source
from symgrad.compiler.build import Kernel, prepare
from symgrad.compiler.codegen.pieces import PieceKernel
from symgrad.runtime import blas_threads, worker
from symgrad.runtime.interpreter import InterpretedKernel
from symgrad.runtime.split import SplitKernel, driver_calls
from symgrad.runtime.worker_pool import EXITING, compile_in_worker

TIERS = ("background", "sync", "interpret")
SHARED_PIECES = 4096
_SHARED_PIECES: OrderedDict[tuple[str, str], Any] = OrderedDict()  # (source, tier) -> piece


def requested_tier(tier: str | None = None) -> str:
    """``tier``, else ``$SYMGRAD_COMPILE``, else ``"background"`` (checked)."""
    chosen = tier or os.environ.get("SYMGRAD_COMPILE") or "background"
    if chosen not in TIERS:
        source = "tier=" if tier else "SYMGRAD_COMPILE"
        raise ValueError(f"{source} must be one of {', '.join(TIERS)}; got {chosen!r}")
    return chosen


def describe_arguments(arrays: Sequence[np.ndarray]) -> list[dict]:
    """What the worker needs to type each argument as ``numba.typeof`` would."""
    described = []
    for a in arrays:
        flags = a.flags
        layout = "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"
        described.append(
            {
                "dtype": a.dtype.name,
                "ndim": a.ndim,
                "layout": layout,
                "readonly": not flags.writeable,
            }
        )
    return described


def _has_machine_code(path: Path) -> bool:
    """A quick look in Numba's default cache folder: found, the worker can be skipped
    (the load checks the files' checksums either way)."""
    return any((path.parent / "__pycache__").glob(f"{path.stem}.*.nbi"))


class BackgroundKernel:
    """Runs on the interpreter until the compiled kernel is ready, then calls the kernel.

    The first call starts a thread that has a worker process compile the kernel (unless
    its machine code is already cached); calls never wait for it.  The call after the
    machine code is ready loads it on the calling thread (one Numba initialisation per
    process, about a second, instead of a thread fighting the running program for the
    interpreter lock) and from then on runs the kernel.
    """

    def __init__(
        self,
        source: str,
        graph: ir.Graph,
        modes: Sequence[str],
        input_names: Sequence[str],
        clock: Callable[[], int] | None = None,
    ):
        self.source = source
        # Calls of what runs it: the switch waits for the next one (a piece called twice in
        # one step of a split graph switches at the next step, not in the middle of this one).
        self._clock = clock or self._own_calls
        self._calls = 0
        self._started_at = -1
        self.graph = graph
        self.input_names = tuple(input_names)
        self.interpreted = InterpretedKernel(graph, modes, input_names)
        self.compiled: Kernel | None = None
        self.failed = False
        self._claim: blas_threads.Hold | None = None  # fewer BLAS threads while compiling
        self._arguments: list[dict] | None = None
        self._ready = threading.Event()  # the machine code is in the cache
        self._lock = threading.Lock()

    @property
    def tier(self) -> str:
        if self.compiled is not None:
            return "kernel"
        return "interpreter" if self.failed else "compiling in background"

    def _own_calls(self) -> int:
        return self._calls

    def __call__(self, *arrays: np.ndarray) -> None:
        compiled = self.compiled
        if compiled is not None:
            compiled(*arrays)
            return
        self._calls += 1
        if self._claim is not None and (self._ready.is_set() or self.failed):
            self._claim.release()  # the worker is done: the interpreter gets its threads back
            self._claim = None
        if self._arguments is None:
            self._started_at = self._clock()
            self._start(arrays)
        elif self._ready.is_set() and not self.failed and self._clock() != self._started_at:
            self._switch()
            if self.compiled is not None:
                self.compiled(*arrays)
                return
        self.interpreted(*arrays)

    call = __call__

    def _start(self, arrays: Sequence[np.ndarray]) -> None:
        with self._lock:
            if self._arguments is not None:
                return
            self._arguments = describe_arguments(arrays)
            self._claim = blas_threads.Hold()
            thread = threading.Thread(target=self._compile, daemon=True)
            thread.start()

    def _compile(self) -> None:
        try:
            path, module = write_source(self.source)
            if not _has_machine_code(path):
                compile_in_worker(path, module, self._arguments)
            self._ready.set()
        except Exception as error:  # a failed build must never break the running program
            self._fail(error)

    def _switch(self) -> None:
        with self._lock:
            if self.compiled is not None or self.failed:
                return
            try:
                kernel = Kernel(self.source, self.graph, self.input_names)
                kernel.load(worker.numba_signature(self._arguments))
                self.compiled = kernel
            except Exception as error:
                self._fail(error)

    def _fail(self, error: Exception) -> None:
        self.failed = True
        if EXITING.is_set():
            return  # the worker was stopped because this process is exiting
        warnings.warn(
            f"symgrad could not build a kernel ({error}); the function keeps running on "
            "the interpreter",
            RuntimeWarning,
            stacklevel=2,
        )

    def pretty(self) -> str:
        return self.graph.pretty(self.input_names)


def piece_executable(piece: PieceKernel, tier: str) -> Any:
    """The executable of one piece of a split graph on ``tier`` (``sync``/``background``),
    shared by every graph of this process that has the same piece: twelve identical
    layers compile, load and prepare one layer kernel."""
    key = (piece.source, tier)
    found = _SHARED_PIECES.get(key)
    if found is None:
        names = [f"x{i}" for i in range(len(piece.graph.inputs))]
        if tier == "sync":
            found = Kernel(piece.source, piece.graph, names)
        else:
            found = BackgroundKernel(piece.source, piece.graph, piece.modes, names, driver_calls)
        _SHARED_PIECES[key] = found
        while len(_SHARED_PIECES) > SHARED_PIECES:
            _SHARED_PIECES.popitem(last=False)
    _SHARED_PIECES.move_to_end(key)
    return found


def executable(graph: ir.Graph, modes: Sequence[str], input_names: Sequence[str], tier: str) -> Any:
    """Something callable as ``run(*inputs, *outputs)`` for ``graph`` on ``tier``.

    ``interpret`` runs the graph as it is; the other tiers optimize it (this takes
    ownership of ``graph``) and generate the kernel source first.
    """
    if tier == "interpret":
        return InterpretedKernel(graph, modes, input_names)
    prepared, source = prepare(graph, modes, input_names)
    if hasattr(source, "plan"):  # a large graph, split into pieces
        pieces = [piece_executable(p, tier) for p in source.plan.pieces]
        return SplitKernel(prepared, source, pieces)
    if tier == "sync":
        return Kernel(source, prepared, input_names)
    return BackgroundKernel(source, prepared, modes, input_names)
