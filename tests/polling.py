"""Waiting in tests without depending on timing: poll a condition with a generous deadline.

The one polling helper of the suite, in two forms: `wait_until` for plain code (a status in the
store, a file, a process) and `pilot_wait_until` for a running Textual app, which must keep the
app's event loop turning (`pilot.pause`) while it waits. A loaded 2-core CI box can make anything
slow; a test waits for the event it needs and fails only when it never comes, never because it came
late. Sleeping as synchronisation, or a deadline that a slow run can reach, makes a test red on a
busy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: Long enough for a loaded CI box; a test that needs it is already failing.
DEADLINE_SECONDS = 120.0


def wait_until(
    predicate: Callable[[], Any], timeout: float = DEADLINE_SECONDS, interval: float = 0.02
) -> Any:
    """Poll a condition until it holds (returns its value) or fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


async def pilot_wait_until(
    pilot: Any, condition: Callable[[], Any], timeout: float = DEADLINE_SECONDS, interval: float = 0.02
) -> Any:
    """Let the app run until `condition()` holds (returns its value), or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        await pilot.pause(interval)
