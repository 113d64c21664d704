"""Checksums of Numba's cached machine code, and the lock that makes one process compile.

Kernels compile at LLVM optimization level :data:`OPT_LEVEL` (:func:`optimization_level`).

Numba keeps a kernel's index (``.nbi``) and machine code (``.nbc``) in its cache folder
and trusts them blindly: a few changed bytes crash every later process or, worse, run
wrong code.  After a kernel is compiled, :func:`record` writes a SHA-256 of each of
those files beside them; before a process loads them, :func:`verify` checks them and
deletes the lot on any mismatch (or when no record exists), so Numba compiles afresh.
The files are found through the dispatcher's own cache (``NUMBA_CACHE_DIR`` moves them).

This module imports only the standard library (Numba inside :func:`optimization_level`,
when compiling): the compile worker loads it by path.

Example:
    >>> import hashlib
    >>> digest(b"")[:12] == hashlib.sha256(b"").hexdigest()[:12]
    True
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUFFIX = ".sha256"
#: LLVM optimization level of kernels (Numba's default is 3).  Level 3 adds passes such
#: as non-trivial loop unswitching that tripled to sextupled LLVM's time on the conv
#: kernels' loop nests (a digits-sized conv step: 14 s of LLVM at 3, 2.3 s at 2) with no
#: measured gain at run time.  ``NUMBA_OPT``, when set, wins.
OPT_LEVEL = 2


def digest(data: bytes) -> str:
    """The checksum written for one file's bytes."""
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def kernel_lock(source_path: Path | str) -> Iterator[None]:
    """Hold the cross-process lock of one kernel (a file beside its source)."""
    with open(f"{source_path}.lock", "a") as handle:  # "a": the file is never rewritten
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.utime(handle.fileno())  # its time stamp is the kernel's last use (for eviction)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def optimization_level() -> Iterator[None]:
    """Compile at :data:`OPT_LEVEL` inside (Numba's compiler lock held, its level restored
    after), unless ``NUMBA_OPT`` is set."""
    if "NUMBA_OPT" in os.environ:
        yield
        return
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        config.reload_config()  # else the compile reloads it over ours when NUMBA_* changed
        saved = config.OPT
        config.OPT = type(saved)(OPT_LEVEL)
        try:
            yield
        finally:
            config.OPT = saved


def _cache_files(dispatcher: Any) -> tuple[Path, list[Path]]:
    cache = dispatcher._cache
    folder = Path(cache.cache_path)
    base = cache._impl.filename_base
    files = sorted(p for p in folder.glob(f"{base}.*") if p.suffix in (".nbi", ".nbc"))
    return folder / f"{base}{SUFFIX}", files


def record(dispatcher: Any) -> None:
    """Write the checksums of the dispatcher's cache files as they are now."""
    sums_path, files = _cache_files(dispatcher)
    if not files:
        return
    sums = {p.name: digest(p.read_bytes()) for p in files}
    try:
        if json.loads(sums_path.read_text()) == sums:
            return  # unchanged: leave the file (and its time stamp) alone
    except (OSError, ValueError):
        pass
    fd, tmp = tempfile.mkstemp(dir=sums_path.parent, prefix=sums_path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(sums, handle)
    os.replace(tmp, sums_path)


def discard(dispatcher: Any) -> None:
    """Delete the dispatcher's cache files and their checksums."""
    sums_path, files = _cache_files(dispatcher)
    for path in [*files, sums_path]:
        path.unlink(missing_ok=True)


def verify(dispatcher: Any) -> bool:
    """True when the cached files match their checksums (or nothing is cached); else
    delete them and their record, so that Numba compiles the kernel again."""
    sums_path, files = _cache_files(dispatcher)
    if not files:
        return True
    try:
        sums = json.loads(sums_path.read_text())
        intact = sums.keys() == {p.name for p in files} and all(
            sums[p.name] == digest(p.read_bytes()) for p in files
        )
    except (OSError, ValueError, AttributeError):
        intact = False
    if not intact:
        discard(dispatcher)
    return intact
