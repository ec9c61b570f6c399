"""Waiting in tests without depending on timing: poll a condition with a generous deadline.

A loaded 2-core CI box can make anything slow; a test waits for the event it needs (a status, a
file, a request) and fails only when it never comes, never because it came late. Sleeping as
synchronisation, or a deadline that a slow run can reach, makes a test red on a busy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.02) -> Any:
    """Poll a condition until it holds (returns its value) or fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)
