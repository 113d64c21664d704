"""Test session set-up: kernels go to a private cache unless SYMGRAD_CACHE_DIR is set."""

import os
import tempfile

if not os.environ.get("SYMGRAD_CACHE_DIR"):
    os.environ["SYMGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="symgrad-test-cache-")
