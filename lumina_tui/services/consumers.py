"""The event log's consumers: each reads the events after its cursor, in order, and writes its results
and its new cursor in ONE transaction, so a crash (even SIGKILL) neither repeats nor skips an event.

The cursor is the event's SQLite rowid: `email_events` is append-only and SQLite has one writer at a
time, so rowid order is commit order and a reader never sees a smaller rowid appear later. The
cursor also remembers the event id at that rowid; if they ever disagree (a VACUUM renumbered the
table), the consumer resets its results and replays the log from the start instead of guessing.

A consumer that raises is rolled back (its cursor does not move), backs off exponentially
(`next_try_at`), and never stops the other consumers: each runs in its own transactions. Sending
never waits on a consumer: consumers run on the worker's own thread, in short batches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlmodel import Session

from lumina_tui.logs import scrub
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.db import read_stamp

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
# How many batches one consumer may run per pass before the next consumer gets its turn.
BATCHES_PER_PASS = 25
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One event of the log with the email columns consumers group by."""

    seq: int
    id: str
    email_id: str
    event_type: str
    provider: str
    data: dict[str, Any]
    occurred_at: datetime
    user_id: str | None
    template_id: str | None
    account_id: str | None
    to_email: str


class Consumer(Protocol):
    """What the runner needs from a consumer; every method runs inside the runner's transaction."""

    name: str

    def apply(self, session: Session, workspace_id: str, events: Sequence[LogEvent]) -> None:
        """Fold these events (in log order) into the consumer's tables."""

    def reset(self, session: Session, workspace_id: str) -> None:
        """Forget every result, before a replay of the whole log."""

    def poll(self, session: Session, workspace_id: str) -> None:
        """Look at state that is not in the log (accounts needing sign-in); may do nothing."""


@dataclass(slots=True)
class PassReport:
    applied: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _events_after(session: Session, workspace_id: str, seq: int, limit: int) -> list[LogEvent]:
    rows = session.execute(
        text(
            "SELECT e.rowid, e.id, e.email_id, e.event_type, e.provider, e.event_data, e.occurred_at,"
            " m.user_id, m.template_id, m.account_id, m.to_email"
            " FROM email_events e LEFT JOIN emails m ON m.id = e.email_id"
            " WHERE e.workspace_id = :w AND e.rowid > :seq ORDER BY e.rowid LIMIT :n"
        ),
        {"w": workspace_id, "seq": seq, "n": limit},
    ).all()
    out: list[LogEvent] = []
    for r in rows:
        data = r[5]
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = {}
        out.append(
            LogEvent(
                seq=int(r[0]),
                id=r[1],
                email_id=r[2],
                event_type=r[3],
                provider=r[4],
                data=data if isinstance(data, dict) else {},
                occurred_at=read_stamp(r[6]),
                user_id=r[7],
                template_id=r[8],
                account_id=r[9],
                to_email=r[10] or "",
            )
        )
    return out


def _cursor(session: Session, workspace_id: str, name: str) -> dict[str, Any]:
    now = utcnow()
    session.execute(
        text(
            "INSERT INTO consumer_cursors (id, workspace_id, name, updated_at, last_seq, failures)"
            " VALUES (:id, :w, :n, :now, 0, 0) ON CONFLICT (workspace_id, name) DO NOTHING"
        ),
        {"id": new_id(), "w": workspace_id, "n": name, "now": now},
    )
    row = session.execute(
        text(
            "SELECT last_seq, last_event_id, failures, next_try_at FROM consumer_cursors"
            " WHERE workspace_id = :w AND name = :n"
        ),
        {"w": workspace_id, "n": name},
    ).one()
    return {
        "last_seq": int(row[0] or 0),
        "last_event_id": row[1],
        "failures": int(row[2] or 0),
        "next_try_at": read_stamp(row[3]) if row[3] else None,
    }


def _cursor_still_valid(session: Session, cursor: dict[str, Any]) -> bool:
    if cursor["last_seq"] == 0:
        return True
    found = session.execute(
        text("SELECT id FROM email_events WHERE rowid = :seq"), {"seq": cursor["last_seq"]}
    ).scalar()
    return bool(found == cursor["last_event_id"])


def _advance(session: Session, workspace_id: str, name: str, last: LogEvent | None) -> None:
    params: dict[str, Any] = {"w": workspace_id, "n": name, "now": utcnow()}
    moved = ""
    if last is not None:
        moved = ", last_seq = :seq, last_event_id = :eid, last_recorded_at = :at"
        params.update(seq=last.seq, eid=last.id, at=last.occurred_at)
    session.execute(
        text(
            "UPDATE consumer_cursors SET failures = 0, last_error = NULL, next_try_at = NULL,"
            f" updated_at = :now{moved} WHERE workspace_id = :w AND name = :n"
        ),
        params,
    )


def _record_failure(db: Database, workspace_id: str, name: str, exc: BaseException) -> None:
    """Back off: a consumer that keeps failing is tried less and less often, never in a tight loop."""
    with db.write() as session:
        cursor = _cursor(session, workspace_id, name)
        failures = cursor["failures"] + 1
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** min(failures - 1, 20)))
        session.execute(
            text(
                "UPDATE consumer_cursors SET failures = :f, last_error = :err, next_try_at = :t,"
                " updated_at = :now WHERE workspace_id = :w AND name = :n"
            ),
            {
                "f": failures,
                "err": scrub(f"{type(exc).__name__}: {exc}")[:500],
                "t": utcnow() + timedelta(seconds=delay),
                "now": utcnow(),
                "w": workspace_id,
                "n": name,
            },
        )


def workspace_ids(db: Database) -> list[str]:
    with db.read() as session:
        return [r[0] for r in session.execute(text("SELECT id FROM workspaces ORDER BY created_at")).all()]


def run_batch(db: Database, consumer: Consumer, workspace_id: str, *, batch_size: int = BATCH_SIZE) -> int:
    """One transaction: events after the cursor (at most `batch_size`), results, new cursor.

    Returns how many events were applied (0: caught up, or backing off).
    """
    with db.write() as session:
        cursor = _cursor(session, workspace_id, consumer.name)
        if cursor["next_try_at"] is not None and cursor["next_try_at"] > utcnow():
            return 0
        if not _cursor_still_valid(session, cursor):
            log.warning("consumer %s: the log was renumbered; replaying it from the start", consumer.name)
            consumer.reset(session, workspace_id)
            cursor["last_seq"] = 0
            session.execute(
                text(
                    "UPDATE consumer_cursors SET last_seq = 0, last_event_id = NULL"
                    " WHERE workspace_id = :w AND name = :n"
                ),
                {"w": workspace_id, "n": consumer.name},
            )
        events = _events_after(session, workspace_id, cursor["last_seq"], batch_size)
        if events:
            consumer.apply(session, workspace_id, events)
        consumer.poll(session, workspace_id)
        _advance(session, workspace_id, consumer.name, events[-1] if events else None)
        return len(events)


def run_pass(
    db: Database,
    consumers: Iterable[Consumer],
    *,
    batch_size: int = BATCH_SIZE,
    batches_per_pass: int = BATCHES_PER_PASS,
) -> PassReport:
    """Give every consumer of every workspace a turn; one consumer's failure stops only itself."""
    report = PassReport()
    workspaces = workspace_ids(db)
    for consumer in consumers:
        for workspace_id in workspaces:
            try:
                for _ in range(max(1, batches_per_pass)):
                    applied = run_batch(db, consumer, workspace_id, batch_size=batch_size)
                    report.applied[consumer.name] = report.applied.get(consumer.name, 0) + applied
                    if applied < batch_size:
                        break
            except Exception as exc:
                log.warning("consumer %s failed; backing off", consumer.name, exc_info=True)
                report.failed[consumer.name] = f"{type(exc).__name__}: {exc}"
                try:
                    _record_failure(db, workspace_id, consumer.name, exc)
                except Exception:
                    log.exception("could not record the failure of consumer %s", consumer.name)
    return report


def run_until_caught_up(
    db: Database, consumers: Sequence[Consumer], *, batch_size: int = BATCH_SIZE
) -> PassReport:
    """Passes until no consumer applies anything (tests, `lumina stats --refresh`)."""
    total = PassReport()
    while True:
        report = run_pass(db, consumers, batch_size=batch_size)
        for name, n in report.applied.items():
            total.applied[name] = total.applied.get(name, 0) + n
        total.failed.update(report.failed)
        if not any(report.applied.values()):
            return total


@dataclass(frozen=True, slots=True)
class ConsumerLag:
    name: str
    behind: int  # events not yet applied (capped at LAG_CAP: the count itself must stay cheap)
    as_of: datetime | None  # when the last applied event happened
    failures: int
    last_error: str | None
    next_try_at: datetime | None


LAG_CAP = 10_000


def lag(session: Session, workspace_id: str, names: Sequence[str]) -> list[ConsumerLag]:
    """How far behind each consumer is, read in O(log n) per consumer (never a scan of the log)."""
    out: list[ConsumerLag] = []
    for name in names:
        row = session.execute(
            text(
                "SELECT last_seq, last_recorded_at, failures, last_error, next_try_at FROM consumer_cursors"
                " WHERE workspace_id = :w AND name = :n"
            ),
            {"w": workspace_id, "n": name},
        ).first()
        seq = int(row[0]) if row else 0
        behind = session.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM email_events WHERE workspace_id = :w AND rowid > :s"
                " LIMIT :cap) AS pending"
            ),
            {"w": workspace_id, "s": seq, "cap": LAG_CAP},
        ).scalar()
        out.append(
            ConsumerLag(
                name=name,
                behind=int(behind or 0),
                as_of=read_stamp(row[1]) if row and row[1] else None,
                failures=int(row[2] or 0) if row else 0,
                last_error=row[3] if row else None,
                next_try_at=read_stamp(row[4]) if row and row[4] else None,
            )
        )
    return out
