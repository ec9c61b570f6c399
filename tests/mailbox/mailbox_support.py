"""Helpers for the mailbox-sync tests: send to an address, write into the rep's mailbox, read back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import func, select

from lumina_tui.config import Settings
from lumina_tui.services import drafts, prospects, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError
from lumina_tui.store import Database
from lumina_tui.store.models import Email, EmailEvent, Suppression


def tag() -> str:
    return uuid.uuid4().hex[:10]


def send_to(db: Database, actor: Actor, settings: Settings, address: str, subject: str = "") -> Email:
    try:
        prospect = prospects.get(db, actor, address)
    except NotFoundError:
        prospect = prospects.create(
            db, actor, email=address, first_name="Ana", company="Brightwave Logistics"
        )
    draft = drafts.create(
        db,
        actor,
        prospect_id=prospect.id,
        subject=subject or f"A quick question {tag()}",
        body="Hi Ana,\n\nWould a 15-minute call next Tuesday be useful?\n\nBest,\nSam",
    )
    return sending.send(db, actor, draft_id=draft.id, settings=settings).email


def status_of(db: Database, email_id: str) -> str:
    with db.read() as session:
        return str(session.execute(select(Email.status).where(Email.id == email_id)).scalar_one())


def events_of(db: Database, email_id: str, event_type: str | None = None) -> list[EmailEvent]:
    with db.read() as session:
        query = select(EmailEvent).where(EmailEvent.email_id == email_id)
        if event_type:
            query = query.where(EmailEvent.event_type == event_type)
        return list(session.execute(query.order_by(EmailEvent.recorded_at)).scalars().all())


def outcomes(db: Database, email_id: str) -> list[str]:
    """The email's `sent`, `replied` and `bounced` events in order (not the delivery steps before)."""
    return [e.event_type for e in events_of(db, email_id) if e.event_type in ("sent", "replied", "bounced")]


def event_count(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(EmailEvent)).scalar_one())


def suppression_for(db: Database, value: str) -> Suppression | None:
    with db.read() as session:
        return session.execute(select(Suppression).where(Suppression.value == value)).scalar_one_or_none()


def reply_to(email: Email, body: str, *, sender: str | None = None, **headers: Any) -> bytes:
    """A prospect's reply to `email`, as their mail client would write it."""
    message = EmailMessage()
    message["From"] = sender or f"Ana Okafor <{email.to_email}>"
    message["To"] = email.from_email
    message["Subject"] = f"Re: {email.subject}"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="brightwave.example")
    message["In-Reply-To"] = email.message_id
    message["References"] = email.message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)
