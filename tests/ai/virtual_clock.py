"""A clock for the AI engine that moves only when the engine sleeps on it.

Retry and budget decisions then depend on the Retry-After values and the budget alone, not on how
long a real HTTP round trip takes on a loaded machine. It starts at the real monotonic reading so
the process-wide rate limiter (which reads the real clock) sees a sensible deadline.
"""

from __future__ import annotations

import threading
import time


class VirtualClock:
    def __init__(self) -> None:
        self._now = time.monotonic()
        self._lock = threading.Lock()
        self.sleeps: list[float] = []  # every wait the engine asked for, in order

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds
