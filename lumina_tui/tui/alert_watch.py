"""Alerts as they arrive, wherever the rep is: a notification per new alert and the unread count in
the composer's top line.

A timer asks `services.stats.unread_alerts` on a thread worker every few seconds (never on the event
loop). The first look only takes the watermark: alerts from before the app started are counted,
not announced. Alert text quotes prospects and mailboxes; `LuminaApp.notify` shows it as plain text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.message import Message

from lumina_tui.services import stats
from lumina_tui.tui.service_jobs import run_service

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
KIND_WORDS = {"replied": "Reply", "bounced": "Bounce", "failed": "Send failed", "needs_sign_in": "Sign in"}


@dataclass
class AlertsRead(Message):
    """What `stats.unread_alerts` found (None: the read failed; the next poll tries again)."""

    found: dict[str, Any] | None


class AlertWatch:
    def __init__(self, app: App[Any], runtime: Any, interval: float = POLL_SECONDS) -> None:
        self.app = app
        self.runtime = runtime
        self.seq: int | None = None
        self.unread = 0
        self.polls = 0
        self._busy = False
        app.set_interval(interval, self.poll)
        self.poll()

    def poll(self) -> None:
        if self._busy:
            return
        self._busy = True
        runtime, after_seq = self.runtime, self.seq
        run_service(self.app, lambda: read_alerts(runtime, after_seq), group="alert-watch")

    def done(self, message: AlertsRead) -> None:
        """The app forwards `AlertsRead` here (UI thread)."""
        found = message.found
        self._busy = False
        if found is None:
            return
        self.polls += 1
        first = self.seq is None
        self.seq = found["seq"]
        self.unread = found["unread"]
        if not first:
            for alert in found["new"]:
                self.app.notify(alert["detail"] or " ", title=alert["title"], timeout=8)
        show = getattr(self.app, "show_unread_alerts", None)
        if show is not None:
            show(self.unread)


def read_alerts(runtime: Any, after_seq: int | None) -> AlertsRead:
    """Thread worker: the unread count and the alerts after the watermark."""
    try:
        return AlertsRead(stats.unread_alerts(runtime.db, runtime.actor, after_seq=after_seq))
    except Exception:
        log.warning("could not read the alerts; trying again", exc_info=True)
        return AlertsRead(None)
