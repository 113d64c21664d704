"""The compile worker: a separate process that compiles kernels into the disk cache.

Run as ``python worker.py`` (by path, so it imports Numba and the kernel modules but
not symgrad itself).  It reads one JSON job per line on standard input: the kernel
file's ``path``, its ``module`` name and the ``args`` (dtype, ndim, layout, readonly of
each array), and answers each with one JSON line on standard output: ``{"ok": true}`` or
``{"ok": false, "error": "..."}``.  One process serves many jobs, so Numba starts once.
It takes each kernel's lock (see ``compiler/machine_code.py``), so processes sharing a
cold cache compile each kernel once: a worker that waited finds the machine code,
checks it against its checksums and only loads it; what it compiles, it checksums.
A worker that dies takes its job with it: the parent reads the exit status and the
last line of standard error.

Example (a job the parent sends)::

    {"path": ".../k_3f2a.py", "module": "symgrad_kernel_3f2a",
     "args": [{"dtype": "float64", "ndim": 1, "layout": "C", "readonly": false}]}
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

# Loaded by path: this process does not import symgrad (only Numba and the kernel).
MACHINE_CODE = Path(__file__).resolve().parents[1] / "compiler" / "machine_code.py"


def numba_signature(args: list[dict]) -> tuple:
    """Numba array types for the described arguments (what ``numba.typeof`` would give)."""
    import numba
    import numpy as np

    return tuple(
        numba.types.Array(
            numba.from_dtype(np.dtype(a["dtype"])), a["ndim"], a["layout"], readonly=a["readonly"]
        )
        for a in args
    )


def _load_by_path(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Numba's cache finds a function through its module
    spec.loader.exec_module(module)
    return module


def compile_job(job: dict) -> None:
    """Import the kernel module and compile (or load, checksums checked) one signature."""
    machine_code = _load_by_path("symgrad_machine_code", MACHINE_CODE)
    with machine_code.kernel_lock(job["path"]), machine_code.optimization_level():
        dispatcher = _load_by_path(job["module"], Path(job["path"])).kernel
        machine_code.verify(dispatcher)
        dispatcher.compile(numba_signature(job["args"]))
        machine_code.record(dispatcher)


def serve(jobs: Any, replies: Any) -> None:
    """Answer each job line of ``jobs`` with one line on ``replies`` until end of input."""
    import numba  # noqa: F401  (started while the parent is still tracing)

    for line in jobs:
        try:
            compile_job(json.loads(line))
            reply: dict = {"ok": True}
        except Exception as error:  # reported to the parent, which keeps interpreting
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
