"""The compile worker: a separate process that compiles one kernel into the disk cache.

Run as ``python worker.py`` (by path, so it imports Numba and the kernel module but
not symgrad itself) with a JSON job on standard input: the kernel file's ``path``,
its ``module`` name and the ``args`` (dtype, ndim, layout, readonly of each array).
It takes an exclusive lock beside the kernel file, so processes sharing a cold cache
compile each kernel once: a worker that waited finds the machine code and only loads
it.  The parent learns the outcome from the exit status (and standard error).

Example (the job a parent sends)::

    {"path": ".../k_3f2a.py", "module": "symgrad_kernel_3f2a",
     "args": [{"dtype": "float64", "ndim": 1, "layout": "C", "readonly": false}]}
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import sys


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


def compile_job(job: dict) -> None:
    """Import the kernel module and compile (or load from the cache) one signature."""
    with open(job["path"] + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        spec = importlib.util.spec_from_file_location(job["module"], job["path"])
        module = importlib.util.module_from_spec(spec)
        sys.modules[job["module"]] = module  # Numba's cache finds the function through it
        spec.loader.exec_module(module)
        module.kernel.compile(numba_signature(job["args"]))


if __name__ == "__main__":
    compile_job(json.load(sys.stdin))
