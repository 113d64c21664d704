"""Test session set-up: kernels go to a private cache unless SYMGRAD_CACHE_DIR is set, and
compiled functions compile before their first call returns (``SYMGRAD_COMPILE=sync``)
unless the environment says otherwise; the tiers' own tests choose theirs explicitly."""

import os
import tempfile

if not os.environ.get("SYMGRAD_CACHE_DIR"):
    os.environ["SYMGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="symgrad-test-cache-")
os.environ.setdefault("SYMGRAD_COMPILE", "sync")
