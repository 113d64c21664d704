"""Kernel source on disk, imported as a real module and compiled by Numba with ``cache=True``.

Each source is stored as ``k_<hash>.py`` in the cache directory, where the
hash covers the source and the symgrad, Numba and NumPy versions.  Files are
written atomically (temp file + rename) and checked against the expected
source before import, so a truncated or edited file is rewritten, never
trusted.  Numba keeps the machine code beside it in ``__pycache__``, so a new
process reuses it.  An in-process memo skips even the file check on repeats.

Example:
    >>> kernel = load_kernel(
    ...     "from numba import njit\\n@njit(cache=True)\\ndef kernel(x):\\n    return x + 1\\n")
    >>> kernel.py_func(1.0)  # the Python function behind the Numba dispatcher
    2.0
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from symgrad.version import __version__

# Read from the installed metadata, so that importing symgrad does not import Numba.
_NUMBA_VERSION = importlib.metadata.version("numba")
VERSION_TAG = f"symgrad {__version__}; numba {_NUMBA_VERSION}; numpy {np.__version__}\n"

#: What the cache did in this process: ``sources_written`` (new files),
#: ``sources_rebuilt`` (bad files replaced), ``modules_imported``, ``memory_hits``,
#: ``machine_code_discarded`` (Numba cache entries that failed to load and were rebuilt).
STATS: Counter[str] = Counter()
_MEMO: dict[str, Any] = {}


def cache_dir() -> Path:
    """``$SYMGRAD_CACHE_DIR``, or ``symgrad`` under the user's cache directory."""
    configured = os.environ.get("SYMGRAD_CACHE_DIR")
    if configured:
        return Path(configured)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "symgrad"


def source_digest(source: str) -> str:
    """The content hash naming a kernel's file."""
    return hashlib.sha256((VERSION_TAG + source).encode()).hexdigest()[:32]


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ensure_source(path: Path, source: str) -> None:
    try:
        current = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        current = None
    if current == source:
        return
    STATS["sources_written" if current is None else "sources_rebuilt"] += 1
    _write_atomically(path, source)


def write_source(source: str) -> tuple[Path, str]:
    """Make sure ``source`` is on disk (written once, never rewritten while right);
    returns its path and the module name it is imported under."""
    digest = source_digest(source)
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"k_{digest}.py"
    _ensure_source(path, source)
    return path, f"symgrad_kernel_{digest}"


def import_module(path: Path, name: str) -> Any:
    """Import a kernel module from ``path`` as ``name`` (also how a worker process finds it)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Numba's disk cache finds functions through their module
    spec.loader.exec_module(module)
    return module


def load_kernel(source: str, entry: str = "kernel") -> Any:
    """The jitted function ``entry`` defined by ``source``, from memory, disk, or fresh."""
    digest = source_digest(source)
    found = _MEMO.get(digest)
    if found is not None:
        STATS["memory_hits"] += 1
        return found
    module = import_module(*write_source(source))
    STATS["modules_imported"] += 1
    kernel = _MEMO[digest] = getattr(module, entry)
    return kernel


def discard_machine_code(source: str) -> None:
    """Forget a kernel and delete Numba's cached machine code for it (it failed to load)."""
    digest = source_digest(source)
    _MEMO.pop(digest, None)
    sys.modules.pop(f"symgrad_kernel_{digest}", None)
    for stale in (cache_dir() / "__pycache__").glob(f"k_{digest}.*"):
        stale.unlink(missing_ok=True)
    STATS["machine_code_discarded"] += 1


def machine_code_stats() -> dict[str, int]:
    """How many kernel specializations Numba compiled vs loaded from its disk cache here."""
    compiled = loaded = 0
    for kernel in _MEMO.values():
        stats = getattr(kernel, "stats", None)
        if stats is not None:
            compiled += sum(stats.cache_misses.values())
            loaded += sum(stats.cache_hits.values())
    return {"compiled": compiled, "loaded": loaded}
