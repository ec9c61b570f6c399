"""The worker's mailbox-sync thread: every account's mailbox, every interval and when asked.

It runs beside huey's consumer, not inside it: reading a slow or unreachable mailbox can take the
whole network timeout, and a consumer thread held by it would be one a send is waiting for. The
`sync_mailboxes` doorbell (rung by another process) only wakes this thread.
"""

from __future__ import annotations

import logging
import threading
import time

from lumina_tui.services import mailbox_sync
from lumina_tui.worker.tasks import WorkerContext

log = logging.getLogger(__name__)


class MailboxSyncer(threading.Thread):
    """Syncs all mailboxes every `interval` seconds (0: only when asked), and on `request()`."""

    def __init__(self, ctx: WorkerContext, interval: float) -> None:
        super().__init__(name="lumina-mailbox-sync", daemon=True)
        self.ctx = ctx
        self.interval = max(0.0, interval)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._requested: set[str | None] = set()
        self.runs = 0

    def request(self, account_id: str | None = None) -> None:
        """Sync soon: one account, or all of them (None)."""
        with self._lock:
            self._requested.add(account_id)
        self._wake.set()

    def run(self) -> None:
        next_run = time.monotonic()  # a first sync right after start-up
        while not self._stop.is_set():
            timeout = None if self.interval == 0 else max(0.0, next_run - time.monotonic())
            if self.interval == 0 and not self._requested:
                self._wake.wait()
            elif timeout:
                self._wake.wait(timeout)
            if self._stop.is_set():
                return
            self._wake.clear()
            with self._lock:
                requested, self._requested = self._requested, set()
            due = self.interval > 0 and time.monotonic() >= next_run
            if due or None in requested:
                self._sync(None)
                next_run = time.monotonic() + self.interval
            else:
                for account_id in sorted(a for a in requested if a):
                    self._sync(account_id)

    def _sync(self, account_id: str | None) -> None:
        try:
            if account_id is None:
                mailbox_sync.sync_all(self.ctx.db, self.ctx.settings)
            else:
                mailbox_sync.sync_account_by_id(self.ctx.db, self.ctx.settings, account_id)
        except Exception:
            log.exception("mailbox sync failed; trying again at the next interval")
        finally:
            self.runs += 1

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
