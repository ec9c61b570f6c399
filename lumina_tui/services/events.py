"""The append-only event log of every email: each delivery step, the rep's actions, provider events.

Delivery: `queued` (the send transaction), then one event per attempt (`deferred`: a transient
failure, retried later; `interrupted`: the worker died mid-send; `sent`; `failed`), each with its
`attempt` number and `result`. The rep: `cancelled`, `retried`. Providers: opened, clicked, ...

Rows are never updated or deleted (store triggers refuse it). A provider may report the same event
twice (webhook retries, a sync that overlaps), so each event carries `(provider, provider_event_id)`
and `append_event` inserts with ON CONFLICT DO NOTHING: appending is idempotent.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from lumina_tui.logs import scrub_data
from lumina_tui.services import validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.db import sqlite_stamp
from lumina_tui.store.models import Email, EmailEvent
from lumina_tui.store.upsert import insert, inserted

LUMINA_PROVIDER = "lumina"

EVENT_TYPES: frozenset[str] = frozenset(
    {
        # the delivery steps Lumina itself records (services/sending.py, worker/tasks.py)
        "queued",
        "deferred",
        "interrupted",
        "sent",
        "failed",
        "cancelled",
        "retried",
        # what providers report later (webhooks: services/webhooks.py; tracking: services/tracking.py)
        "delivered",
        "complained",
        "opened",
        "clicked",
        "replied",
        "bounced",
        "unsubscribed",
    }
)


def as_json(event: EmailEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "email_id": event.email_id,
        "event_type": event.event_type,
        "provider": event.provider,
        "provider_event_id": event.provider_event_id,
        "data": event.event_data,
        "occurred_at": iso(event.occurred_at),
        "recorded_at": iso(event.recorded_at),
    }


def _check_type(event_type: str) -> None:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")


def append_event(
    session: Session,
    *,
    workspace_id: str,
    email_id: str,
    event_type: str,
    provider: str = LUMINA_PROVIDER,
    provider_event_id: str,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> bool:
    """Append one event inside the caller's transaction; False if it was already recorded."""
    _check_type(event_type)
    now = utcnow()
    return inserted(
        session,
        insert(session, EmailEvent)
        .values(
            id=new_id(),
            workspace_id=workspace_id,
            email_id=email_id,
            provider=provider,
            provider_event_id=provider_event_id,
            event_type=event_type,
            # Event data quotes provider replies; the log is append-only, so scrub before it lands.
            event_data=scrub_data(data or {}),
            occurred_at=occurred_at or now,
            recorded_at=now,
        )
        # `inserted`, not rowcount: psycopg's rowcount once made every append look like a duplicate.
        .on_conflict_do_nothing(index_elements=["provider", "provider_event_id"]),
    )


_INSERT_SQLITE = (
    "INSERT INTO email_events (id, workspace_id, email_id, provider, provider_event_id, event_type, "
    "event_data, occurred_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING 1"
)


def append_event_sqlite(
    conn: sqlite3.Connection,
    *,
    workspace_id: str,
    email_id: str,
    event_type: str,
    provider: str = LUMINA_PROVIDER,
    provider_event_id: str,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> bool:
    """`append_event` on the sqlite3 connection of `Database.write_sqlite` (the worker's finish, once
    per email sent): the same row, the same scrubbing, stored as SQLAlchemy stores it."""
    _check_type(event_type)
    now = utcnow()
    cursor = conn.execute(
        _INSERT_SQLITE,
        (
            new_id(),
            workspace_id,
            email_id,
            provider,
            provider_event_id,
            event_type,
            json.dumps(scrub_data(data or {})),  # SQLAlchemy's JSON column stores json.dumps
            sqlite_stamp(occurred_at or now),
            sqlite_stamp(now),
        ),
    )
    # RETURNING, as `store.upsert.inserted` reads it: one way to ask on every path and engine.
    return cursor.fetchone() is not None


def events_for(session: Session, workspace_id: str, email_id: str) -> list[EmailEvent]:
    """An email's events in the order they happened (recorded order breaks ties)."""
    rows = session.execute(
        select(EmailEvent)
        .where(
            EmailEvent.workspace_id == workspace_id,
            EmailEvent.email_id == email_id,
        )
        .order_by(col(EmailEvent.occurred_at), col(EmailEvent.recorded_at), col(EmailEvent.id))
    )
    return list(rows.scalars().all())


def list_events(db: Database, actor: Actor, email_id: str) -> list[EmailEvent]:
    """The events of one email of the actor's workspace; NotFoundError if there is no such email."""
    email_id = validation.uuid_text(email_id, "email_id")
    with db.read() as session:
        email = session.get(Email, email_id)
        if email is None or email.workspace_id != actor.workspace_id:
            raise NotFoundError(f"email {email_id} not found", field="email_id")
        return events_for(session, actor.workspace_id, email_id)
