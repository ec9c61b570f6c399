"""Same request, same suggestion: a bounded in-memory cache with single flight.

Keyed by `request_key`, so a suggestion is reused only when every input and setting is equal.
Concurrent identical requests (the rep pressing ctrl+g twice, the composer and a prefetch racing)
share one engine call: the first caller computes, the others wait for its result. A failure is
handed to everyone waiting on that call but never stored, so the next attempt really retries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


class SuggestionCache(Generic[T]):
    """LRU of finished results plus a table of calls in progress."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._done: OrderedDict[str, T] = OrderedDict()
        self._flying: dict[str, _Flight[T]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.shared = 0  # callers that waited on someone else's in-flight call

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                self.hits += 1
                return self._done[key]
            flight = self._flying.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flying[key] = _Flight()
                self.misses += 1
            else:
                self.shared += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return cast(T, flight.value)  # the leader set it before `done`, and no error came
        try:
            value = compute()
        except BaseException as error:
            flight.error = error
            raise
        else:
            flight.value = value
            with self._lock:
                self._done[key] = value
                while len(self._done) > self.maxsize:
                    self._done.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._flying.pop(key, None)
            flight.done.set()

    def clear(self) -> None:
        with self._lock:
            self._done.clear()
            self.hits = self.misses = self.shared = 0

    def __len__(self) -> int:
        return len(self._done)

    def __contains__(self, key: object) -> bool:
        return key in self._done
