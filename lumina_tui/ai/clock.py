"""The clock the AI engines read and sleep on, injectable so retry and budget decisions can be
tested without depending on how fast a (loaded) machine runs.

The engine decides from this clock whether a retry still fits the call's budget and sleeps on it
between attempts. A test hands in a clock that only moves when slept on, so "two attempts fit a
30 s budget with a 20 s Retry-After" holds however long each real HTTP round trip takes.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What an engine needs of time: a monotonic reading in seconds, and a way to wait."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: `time.monotonic` and `time.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
