"""Is a send worker alive for this data dir, and how many emails are still on their way?

Read from the worker's heartbeat file (`services/worker_heartbeat.py`, the file's one owner) without
touching the worker. Starting one when none runs is `services/worker_control.py`, asked for by the
CLI and the composer, never by a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from lumina_tui.config import Settings
from lumina_tui.services import email_state, worker_heartbeat
from lumina_tui.store import Database
from lumina_tui.store.models import Email

LOCK_FILE = "worker.lock"


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    online: bool
    pid: int | None = None
    last_beat: datetime | None = None  # naive UTC, like every time Lumina stores
    worker_id: str | None = None
    hostname: str | None = None
    pending_count: int | None = None  # emails still PENDING_SEND or SENDING (when a db was given)
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "pid": self.pid,
            "last_beat": self.last_beat.isoformat(timespec="milliseconds") + "Z" if self.last_beat else None,
            "worker_id": self.worker_id,
            "hostname": self.hostname,
            "pending_count": self.pending_count,
            "reason": self.reason,
        }


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / LOCK_FILE


def pending_count(db: Database) -> int:
    """Emails still on their way, in every workspace of this store (the worker serves them all)."""
    with db.read() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(Email)
                .where(col(Email.status).in_(sorted(email_state.UNFINISHED)))
            ).scalar_one()
        )


def read_status(settings: Settings, db: Database | None = None) -> WorkerStatus:
    """What the composer's status bar shows: online or offline, and why."""
    pending = pending_count(db) if db is not None else None
    heartbeat = worker_heartbeat.read(settings)
    if heartbeat is None:
        return WorkerStatus(online=False, pending_count=pending, reason="no worker heartbeat")
    fresh, why = worker_heartbeat.is_fresh(heartbeat, settings)
    return WorkerStatus(
        online=fresh,
        pid=heartbeat.pid,
        last_beat=heartbeat.beat_at_utc,
        worker_id=heartbeat.worker_id,
        hostname=heartbeat.hostname,
        pending_count=pending,
        reason=why,
    )
