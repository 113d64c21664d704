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

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import warnings
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from symgrad.compiler import machine_code
from symgrad.version import __version__

# Numba settings that change the machine code of the same source: part of every file name.
CODE_FLAGS = ("NUMBA_BOUNDSCHECK", "NUMBA_OPT", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")


@functools.cache
def _version_tag() -> str:
    """The versions that make up every kernel's digest.

    Numba's version comes from its installed metadata (read at the first digest, not at
    import: ``importlib.metadata`` costs about 15 ms), so that hashing does not import Numba.
    """
    import importlib.metadata

    numba_version = importlib.metadata.version("numba")
    numpy_version, opt = np.__version__, machine_code.OPT_LEVEL
    return f"symgrad {__version__}; numba {numba_version}; numpy {numpy_version}; opt {opt}\n"


#: What the cache did in this process: ``sources_written`` (new files),
#: ``sources_rebuilt`` (bad files replaced), ``modules_imported``, ``memory_hits``,
#: ``machine_code_discarded`` (Numba cache entries that failed to load and were rebuilt).
STATS: Counter[str] = Counter()
_MEMO: OrderedDict[str, Any] = OrderedDict()  # digest -> dispatcher, most recent last
MEMO_SIZE = 1024
_RESOLVED: dict[str, Path] = {}  # $SYMGRAD_CACHE_DIR as given -> the folder used


def _default_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "symgrad"


def _unusable(folder: Path) -> str | None:
    """Why kernels cannot be written to ``folder``, or None when they can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe"):
            pass
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


def cache_dir() -> Path:
    """``$SYMGRAD_CACHE_DIR``, or ``symgrad`` under the user's cache directory.

    A folder that cannot be written (read-only, a file, below a file) gives one warning
    naming the variable and the reason, and this process uses a private temporary folder.
    """
    configured = os.environ.get("SYMGRAD_CACHE_DIR", "")
    resolved = _RESOLVED.get(configured)
    if resolved is None:
        wanted = Path(configured) if configured else _default_dir()
        reason = _unusable(wanted)
        resolved = wanted
        if reason is not None:
            resolved = Path(tempfile.mkdtemp(prefix="symgrad-cache-"))
            name = "SYMGRAD_CACHE_DIR" if configured else "the default kernel cache"
            warnings.warn(
                f"{name} ({wanted}) cannot be used: {reason}; kernels go to {resolved} "
                "for this process (set SYMGRAD_CACHE_DIR to a writable folder)",
                RuntimeWarning,
                stacklevel=2,
            )
        _RESOLVED[configured] = resolved
    return resolved


def source_digest(source: str) -> str:
    """The content hash naming a kernel's file (versions and code flags included)."""
    flags = ";".join(f"{name}={os.environ.get(name, '')}" for name in CODE_FLAGS)
    return hashlib.sha256((_version_tag() + flags + "\n" + source).encode()).hexdigest()[:32]


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
    if current is None:
        evict_least_recently_used(path.parent)


def kernel_files(folder: Path) -> dict[str, list[Path]]:
    """Every file of each kernel in ``folder`` (the cache), by kernel stem (``k_<digest>``):
    its source, its lock and Numba's index and machine code; files being written are left
    out.  ``symgrad cache info`` counts these, ``symgrad cache clear`` deletes them.

    >>> import tempfile
    >>> kernel_files(Path(tempfile.mkdtemp()))
    {}
    """
    kernels: dict[str, list[Path]] = {}
    for place in (folder, folder / "__pycache__"):
        if place.is_dir():
            for path in place.iterdir():  # not files being written (another thread's)
                if path.name.startswith("k_") and path.suffix != ".tmp":
                    kernels.setdefault(path.name.split(".")[0], []).append(path)
    return kernels


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # deleted meanwhile by another process
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def evict_least_recently_used(folder: Path) -> int:
    """Delete the least recently used kernels until the folder is under
    ``$SYMGRAD_CACHE_MAX_MB`` (default 500); returns how many were deleted.

    A kernel's last use is its lock file's time stamp (touched whenever a process
    loads it), else its source's.
    """
    limit = float(os.environ.get("SYMGRAD_CACHE_MAX_MB", "500")) * 2**20
    kernels = kernel_files(folder)
    sizes = {stem: sum(map(_size, paths)) for stem, paths in kernels.items()}
    total = sum(sizes.values())
    if total <= limit:
        return 0

    def last_use(stem: str) -> float:
        times = [_mtime(p) for p in kernels[stem] if p.suffix in (".lock", ".py")]
        return max(times, default=0.0)

    evicted = 0
    for stem in sorted(kernels, key=last_use)[:-1]:  # never the newest (just written)
        for path in kernels[stem]:
            path.unlink(missing_ok=True)
        total -= sizes[stem]
        evicted += 1
        if total <= limit:
            break
    STATS["kernels_evicted"] += evicted
    return evicted


def kernel_path(source: str) -> Path:
    """Where ``source`` is (or will be) stored."""
    return cache_dir() / f"k_{source_digest(source)}.py"


def write_source(source: str) -> tuple[Path, str]:
    """Make sure ``source`` is on disk (written once, never rewritten while right);
    returns its path and the module name it is imported under."""
    digest = source_digest(source)
    path = cache_dir() / f"k_{digest}.py"
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
        _MEMO.move_to_end(digest)
        return found
    module = import_module(*write_source(source))
    STATS["modules_imported"] += 1
    kernel = _MEMO[digest] = getattr(module, entry)
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return kernel


def discard_machine_code(source: str, dispatcher: Any) -> None:
    """Forget a kernel and delete Numba's cached machine code for it (it failed to load)."""
    digest = source_digest(source)
    _MEMO.pop(digest, None)
    sys.modules.pop(f"symgrad_kernel_{digest}", None)
    machine_code.discard(dispatcher)
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
