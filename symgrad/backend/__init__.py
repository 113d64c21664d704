"""Kernel loading and the on-disk kernel cache (see :mod:`symgrad.backend.cache`)."""

from symgrad.backend.cache import (
    STATS,
    cache_dir,
    discard_machine_code,
    load_kernel,
    machine_code_stats,
)

__all__ = ["STATS", "cache_dir", "discard_machine_code", "load_kernel", "machine_code_stats"]
