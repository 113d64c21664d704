"""Test session set-up: kernels go to a private cache unless SYMGRAD_CACHE_DIR is set, and
compiled functions compile before their first call returns (``SYMGRAD_COMPILE=sync``)
unless the environment says otherwise; the tiers' own tests choose theirs explicitly.

The suite runs in one process per core (``-n auto``, files kept whole on one worker):
each worker gets a cache folder of its own, so that a test counting the files its
kernels wrote never sees another worker's.  Property tests (Hypothesis) have no time
limits: on a busy 2-core machine a draw or an example can stall for seconds while the
other worker compiles, which says nothing about the code under test."""

import os
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile("symgrad", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("symgrad")

if not os.environ.get("SYMGRAD_CACHE_DIR"):
    os.environ["SYMGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="symgrad-test-cache-")
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["SYMGRAD_CACHE_DIR"] = os.path.join(os.environ["SYMGRAD_CACHE_DIR"], _worker)
    os.makedirs(os.environ["SYMGRAD_CACHE_DIR"], exist_ok=True)
os.environ.setdefault("SYMGRAD_COMPILE", "sync")
