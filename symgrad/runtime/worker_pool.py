"""Compile workers kept for the life of the process: Numba starts once per worker, not per
kernel.

:func:`compile_in_worker` hands one job (a kernel file and its argument types) to a
worker process and waits for the answer.  At most :data:`WORKERS` processes run at a
time, each served by a thread of this process that feeds it jobs in the order they
came.  A worker idle for :data:`IDLE_SECONDS` exits; one whose script or environment
is no longer what this process would start is replaced; all are killed at exit.

Example:
    >>> import numpy as np
    >>> from symgrad.compiler.backend import write_source
    >>> from symgrad.runtime.tiers import describe_arguments
    >>> path, module = write_source(
    ...     "from numba import njit\\n@njit(cache=True)\\ndef kernel(x):\\n    x[0] = 1\\n")
    >>> compile_in_worker(path, module, describe_arguments([np.zeros(2)]))
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from symgrad.compiler.backend import cache_dir
from symgrad.runtime import worker

#: The most worker processes at once: one per core but the one this process runs on.
WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))
#: A worker with nothing to do for this long exits.
IDLE_SECONDS = 60.0
WORKER_SCRIPT = Path(worker.__file__)

EXITING = threading.Event()  # set at exit: workers are being killed, not failing
_LOCK = threading.Lock()
_IDLE = [0]  # servers waiting for a job
_JOBS: queue.Queue[_Job] = queue.Queue()
_SERVERS: list[threading.Thread] = []
_PROCESSES: set[subprocess.Popen] = set()


@dataclass
class _Job:
    text: str
    script: Path
    env: dict[str, str]
    done: threading.Event = field(default_factory=threading.Event)
    error: str | None = None


def start_worker() -> None:
    """Have a worker process starting (Python, then Numba) before its first job exists;
    nothing when one is running."""
    with _LOCK:
        _SERVERS[:] = [t for t in _SERVERS if t.is_alive()]
        if not _SERVERS and not EXITING.is_set():
            _start_server(_Job("", WORKER_SCRIPT, _worker_env()))


def _worker_env() -> dict[str, str]:
    return {**os.environ, "SYMGRAD_CACHE_DIR": str(cache_dir())}


def _start_server(first: _Job | None = None) -> None:
    server = threading.Thread(target=_serve, args=(first,), daemon=True)
    _SERVERS.append(server)
    server.start()


def compile_in_worker(
    path: Path, module: str, arguments: list[dict], script: Path | None = None
) -> None:
    """Compile one kernel file for the described arguments in a worker; raise
    ``RuntimeError`` with the worker's reason when it fails or dies."""
    if EXITING.is_set():
        raise RuntimeError("this process is exiting")
    job = _Job(
        json.dumps({"path": str(path), "module": module, "args": arguments}),
        script or WORKER_SCRIPT,
        _worker_env(),
    )
    with _LOCK:
        _SERVERS[:] = [t for t in _SERVERS if t.is_alive()]
        if _IDLE[0] <= _JOBS.qsize() and len(_SERVERS) < WORKERS:
            _start_server()
        _JOBS.put(job)
    job.done.wait()
    if job.error is not None:
        raise RuntimeError(f"the compile worker failed: {job.error}")


class _Worker:
    """One worker process and what it was started with."""

    def __init__(self, script: Path, env: dict[str, str]):
        self.script, self.env = script, env
        self.errors = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=env,
            text=True,
        )
        _PROCESSES.add(self.process)

    def run(self, job: _Job) -> str | None:
        """The job's error, or None when the kernel was built."""
        try:
            self.process.stdin.write(job.text + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except OSError:
            line = ""
        if not line:
            return self._death()
        reply = json.loads(line)
        return None if reply["ok"] else reply["error"]

    def _death(self) -> str:
        status = self.process.wait()
        self.errors.seek(0)
        last = self.errors.read().strip().splitlines()[-1:] or [f"exit status {status}"]
        self.close()
        return "this process is exiting" if EXITING.is_set() else last[0]

    def close(self) -> None:
        _PROCESSES.discard(self.process)
        if self.process.poll() is None:
            self.process.stdin.close()  # end of input: the worker exits
            self.process.wait()
        self.errors.close()


def _serve(warm_up: _Job | None = None) -> None:
    """Feed jobs to one worker process; ``warm_up`` (no job text) only starts it."""
    current = _Worker(warm_up.script, warm_up.env) if warm_up is not None else None
    while True:
        with _LOCK:
            _IDLE[0] += 1
        try:
            job = _JOBS.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            job = None
        finally:
            with _LOCK:
                _IDLE[0] -= 1
        if job is None:
            with _LOCK:
                if _JOBS.empty():
                    if current is not None:
                        current.close()
                    _SERVERS.remove(threading.current_thread())
                    return
            continue
        if current is not None and (current.script, current.env) != (job.script, job.env):
            current.close()
            current = None
        if current is None or current.process.poll() is not None:
            current = _Worker(job.script, job.env)
        job.error = current.run(job)
        if current.process.poll() is not None:
            current = None
        job.done.set()


@atexit.register
def _kill_workers() -> None:
    EXITING.set()
    for process in list(_PROCESSES):
        process.kill()
        process.wait()
