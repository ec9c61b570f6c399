"""The worker's consumer thread: runs the event log's consumers after appends and periodically.

It runs beside huey's consumer, never inside a send: a consumer's batch is a short transaction of
its own, and one that raises backs off (services/consumers.py) while sending goes on. After a send
the worker rings it in-process (`request`); another process rings the `run_consumers` doorbell;
and every `interval` seconds it looks anyway (a cheap check when nothing is new).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from lumina_tui.services import consumers
from lumina_tui.services.consumers import Consumer
from lumina_tui.store import Database

log = logging.getLogger(__name__)


class ConsumerRunner(threading.Thread):
    def __init__(
        self,
        db: Database,
        consumer_list: Sequence[Consumer],
        interval: float,
        may_run: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(name="lumina-consumers", daemon=True)
        self.db = db
        self.consumers = list(consumer_list)
        self.interval = max(0.05, interval)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.passes = 0  # finished passes (tests and logs)
        # Team mode: only the worker holding the periodic lease folds the log in (run.py).
        self.may_run = may_run

    def request(self, *_: object) -> None:
        """Run soon (after an append); many requests before the next pass make one pass."""
        self._wake.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval)
            if self._stopping.is_set():
                return
            self._wake.clear()
            if not self.may_run():
                continue
            started = time.monotonic()
            try:
                report = consumers.run_pass(self.db, self.consumers)
            except Exception:
                log.exception("the consumers' pass failed; trying again at the next interval")
                continue
            self.passes += 1
            if any(report.applied.values()):
                log.debug("consumers applied %s in %.3f s", report.applied, time.monotonic() - started)
                if any(n >= consumers.BATCH_SIZE for n in report.applied.values()):
                    self._wake.set()  # more to do: go on without waiting for the interval

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
