"""The worker's mailbox sync: every account's mailbox, every interval and when asked.

It runs beside huey's consumer, not inside it: reading a slow or unreachable mailbox can take the
whole network timeout, and a consumer thread held by it would be one a send is waiting for. Each
account syncs on a (daemon) thread of its own, so one mailbox that hangs delays neither the sends
nor the other mailboxes, and an account still syncing is not started twice. The `sync_mailboxes`
doorbell (rung by another process) only wakes the scheduler thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from lumina_tui.services import mailbox_sync
from lumina_tui.worker.tasks import WorkerRuntime

log = logging.getLogger(__name__)


class MailboxSyncer(threading.Thread):
    """Starts a sync of every mailbox every `interval` seconds (0: only when asked), and on
    `request()`."""

    def __init__(
        self, ctx: WorkerRuntime, interval: float, may_run: Callable[[], bool] = lambda: True
    ) -> None:
        super().__init__(name="lumina-mailbox-sync", daemon=True)
        self.ctx = ctx
        self.interval = max(0.0, interval)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._requested: set[str | None] = set()
        self._running: set[str] = set()
        self.runs = 0  # finished account syncs (tests and logs)
        # Team mode: the timed sync of every mailbox runs on the periodic lease's holder only; a
        # sync someone asked for runs on whichever worker the doorbell reached.
        self.may_run = may_run

    def request(self, account_id: str | None = None) -> None:
        """Sync soon: one account, or all of them (None)."""
        with self._lock:
            self._requested.add(account_id)
        self._wake.set()

    def run(self) -> None:
        next_run = time.monotonic()  # a first sync right after start-up
        while not self._stop.is_set():
            if self.interval == 0:
                self._wake.wait()
            else:
                self._wake.wait(max(0.0, next_run - time.monotonic()))
            if self._stop.is_set():
                return
            self._wake.clear()
            with self._lock:
                requested, self._requested = self._requested, set()
            due = self.interval > 0 and time.monotonic() >= next_run
            if due and not self.may_run():
                next_run = time.monotonic() + min(self.interval, 1.0)  # look again soon: may take over
                due = False
            try:
                if due or None in requested:
                    next_run = time.monotonic() + self.interval
                    for account in mailbox_sync.syncable_accounts(self.ctx.db):
                        self._start(account.id)
                else:
                    for account_id in sorted(a for a in requested if a):
                        self._start(account_id)
            except Exception:
                log.exception("mailbox sync could not list the accounts; trying again at the next interval")

    def _start(self, account_id: str) -> None:
        with self._lock:
            if account_id in self._running:
                return  # still syncing from the last round (a slow mailbox): not twice at once
            self._running.add(account_id)
        threading.Thread(
            target=self._sync, args=(account_id,), name=f"lumina-mailbox-{account_id[:8]}", daemon=True
        ).start()

    def _sync(self, account_id: str) -> None:
        try:
            mailbox_sync.sync_account_by_id(self.ctx.db, self.ctx.settings, account_id)
        except Exception:
            log.exception("mailbox sync of account %s failed; trying again at the next interval", account_id)
        finally:
            with self._lock:
                self._running.discard(account_id)
                self.runs += 1

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
