"""Test session set-up: kernels go to a private cache unless SYMGRAD_CACHE_DIR is set, and
compiled functions compile before their first call returns (``SYMGRAD_COMPILE=sync``)
unless the environment says otherwise; the tiers' own tests choose theirs explicitly.

The suite runs in one process per core (``-n auto``, files kept whole on one worker):
each worker gets a cache folder of its own, so that a test counting the files its
kernels wrote never sees another worker's."""

import os
import tempfile

if not os.environ.get("SYMGRAD_CACHE_DIR"):
    os.environ["SYMGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="symgrad-test-cache-")
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["SYMGRAD_CACHE_DIR"] = os.path.join(os.environ["SYMGRAD_CACHE_DIR"], _worker)
    os.makedirs(os.environ["SYMGRAD_CACHE_DIR"], exist_ok=True)
os.environ.setdefault("SYMGRAD_COMPILE", "sync")
