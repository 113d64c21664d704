"""symgrad's version, kept in one place (it is part of every kernel cache key)."""

__version__ = "0.1.0"
