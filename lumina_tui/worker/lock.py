"""One worker per data dir: an OS file lock held for the worker's whole life.

The OS drops the lock when the process dies, even by SIGKILL, so a crashed worker never blocks the
next one, and a second worker started on the same data dir finds the lock taken and steps aside.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout


class WorkerLock:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = FileLock(str(path), timeout=0)

    def acquire(self, timeout: float = 0.0) -> bool:
        """Take the lock, waiting at most `timeout` seconds; False if another worker holds it."""
        try:
            self._lock.acquire(timeout=timeout, poll_interval=0.05)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)
