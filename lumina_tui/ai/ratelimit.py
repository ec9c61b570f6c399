"""A per-process limit on AI requests per minute, shared by every engine talking to one server.

The SDK retries 429s, but a rep mashing ctrl+g should not be able to spend the workspace's whole
quota: Lumina stops itself first, and says so, instead of letting the server do it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from .errors import AIError

WINDOW_SECONDS = 60.0


class RateLimiter:
    """Sliding window: at most `per_minute` acquisitions in any 60 s."""

    def __init__(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)

    def acquire(self, deadline: float) -> None:
        """Take a slot, waiting for one only while the call's deadline allows; else raise."""
        if not self.per_minute or self.per_minute <= 0:
            return
        with self._lock:
            while True:
                now = time.monotonic()
                while self._times and self._times[0] <= now - WINDOW_SECONDS:
                    self._times.popleft()
                if len(self._times) < self.per_minute:
                    self._times.append(now)
                    return
                wait = self._times[0] + WINDOW_SECONDS - now
                if now + wait > deadline:
                    raise AIError(
                        "rate_limited",
                        f"Lumina's limit of {self.per_minute} AI requests per minute is reached; "
                        f"try again in {math.ceil(wait)} s (setting: ai_requests_per_minute).",
                        retry_after=wait,
                    )
                self._freed.wait(timeout=wait)


_limiters: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(server: str, per_minute: int | None) -> RateLimiter:
    """The process-wide limiter for one server; the latest configured limit applies."""
    with _registry_lock:
        limiter = _limiters.get(server)
        if limiter is None:
            limiter = _limiters[server] = RateLimiter(per_minute)
        else:
            limiter.per_minute = per_minute
        return limiter


def reset_limiters() -> None:
    """Forget all windows (tests, or after the rep changes servers)."""
    with _registry_lock:
        _limiters.clear()
