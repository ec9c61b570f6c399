"""The rep's outbox: the emails a send made, and the rep's verbs on them (cancel, retry, list, show).

An email's status changes only through `email_state.transition` (the lifecycle's one home); this
module offers the rep's two moves on it, cancel inside the undo window and retry a failed email,
and reads the rows and their timelines for the outbox screen and `lumina emails`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from lumina_tui.config import Settings
from lumina_tui.services import email_state, events, validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.errors import InvalidStateError, NotFoundError, ValidationError
from lumina_tui.services.jsonable import Page, iso
from lumina_tui.services.sending import ring_doorbell
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.models import Account, Email, EmailDraft, EmailEvent, Prospect, Template


@dataclass(frozen=True, slots=True)
class CancelResult:
    email: Email
    draft_id: str  # a new, editable copy of the cancelled email; the sent draft stays frozen


# -- JSON ------------------------------------------------------------------------------------------


def as_json(email: Email, event_rows: Iterable[EmailEvent] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": email.id,
        "status": email.status,
        "draft_id": email.draft_id,
        "account_id": email.account_id,
        "provider": email.provider,
        "from_email": email.from_email,
        "from_name": email.from_name,
        "to_email": email.to_email,
        "to_name": email.to_name,
        "cc": email.cc,
        "bcc": email.bcc,
        "subject": email.subject,
        "body": email.body_text,
        "body_html": email.body_html,
        "template_id": email.template_id,
        "prospect_id": email.prospect_id,
        "prospect": email.prospect_snapshot,
        "score": email.score_snapshot,
        "accepted_suggestion_ids": email.accepted_suggestion_ids,
        "idempotency_key": email.idempotency_key,
        "message_id": email.message_id,
        "send_after": iso(email.send_after),
        "attempts": email.attempts,
        "last_error": email.last_error,
        "status_note": email_state.status_note(email),
        "next_attempt_at": iso(email.next_attempt_at),
        "provider_message_id": email.provider_message_id,
        "provider_thread_id": email.provider_thread_id,
        "sent_message_id": email.sent_message_id,
        "sent_at": iso(email.sent_at),
        "created_at": iso(email.created_at),
        "updated_at": iso(email.updated_at),
    }
    if event_rows is not None:
        body["events"] = [events.as_json(event) for event in event_rows]
    return body



# -- the rep's verbs after a send ------------------------------------------------------------------


def _scoped_email(session: Session, actor: Actor, email_id: str) -> Email:
    email = session.get(Email, email_id)
    if email is None or email.workspace_id != actor.workspace_id:
        raise NotFoundError(f"email {email_id} not found", field="email_id")
    return email


def _reload(session: Session, email_id: str) -> Email:
    return session.exec(
        select(Email).where(Email.id == email_id).execution_options(populate_existing=True)
    ).one()


@validation.checked_arguments
def cancel(
    db: Database, actor: Actor, email_id: str, *, clock: Callable[[], datetime] = utcnow
) -> CancelResult:
    """Undo: stop an email that is still waiting (undo window or retry backoff), never a claimed one.

    The sent draft stays frozen (history is immutable); the rep gets a new editable draft with the
    same content, whose id is returned.
    """
    email_id = validation.uuid_text(email_id, "email_id")
    with db.write() as session:
        email = _scoped_email(session, actor, email_id)
        now = clock()
        moved = email_state.transition(
            session,
            email,
            email_state.CANCEL,
            # A previous attempt that was cut off may already have delivered it: not undoable.
            when=[
                or_(
                    col(Email.last_error).is_(None),
                    ~(
                        col(Email.last_error).startswith(email_state.INTERRUPTED_PREFIX)
                        | col(Email.last_error).startswith(email_state.UNCERTAIN_PREFIX)
                    ),
                ),
            ],
            values={"next_attempt_at": None},
            provider_event_id=f"{email_id}:cancelled",
            data={"by_user_id": actor.user_id},
            now=now,
        )
        if not moved:
            raise InvalidStateError(
                f"email {email_id} is {email.status} and can no longer be cancelled"
                + (" (it may already have gone out)" if email.status == EmailStatus.PENDING_SEND else ""),
                field="email_id",
                status=email.status,
            )
        copy = _editable_copy(session, actor, email, now)
        return CancelResult(email=_reload(session, email_id), draft_id=copy.id)


def _editable_copy(session: Session, actor: Actor, email: Email, now: datetime) -> EmailDraft:
    """A fresh draft with the cancelled email's content and the original draft's references."""
    original = session.get(EmailDraft, email.draft_id) if email.draft_id else None

    def still_there(model: type, ref: str | None) -> str | None:
        if not ref:
            return None
        row = session.get(model, ref)
        return ref if row is not None and row.workspace_id == actor.workspace_id else None

    copy = EmailDraft(
        id=new_id(),
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        prospect_id=still_there(Prospect, email.prospect_id),
        template_id=still_there(Template, email.template_id),
        account_id=still_there(Account, email.account_id),
        subject=original.subject if original else email.subject,
        body_text=original.body_text if original else email.body_text,
        body_html=original.body_html if original else email.body_html,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    session.add(copy)
    session.flush()
    return copy


@validation.checked_arguments
def retry(
    db: Database, actor: Actor, email_id: str, *, settings: Settings, clock: Callable[[], datetime] = utcnow
) -> Email:
    """A FAILED email back to PENDING_SEND (the same row, the same Message-ID), then the doorbell."""
    email_id = validation.uuid_text(email_id, "email_id")
    with db.write() as session:
        email = _scoped_email(session, actor, email_id)
        previous_attempts, previous_error = email.attempts, email.last_error
        now = clock()
        moved = email_state.transition(
            session,
            email,
            email_state.RETRY,
            values={"attempts": 0, "last_error": None, **email_state.RELEASED},
            provider_event_id=f"{email_id}:retried:{new_id()}",
            data={"previous_attempts": previous_attempts, "previous_error": previous_error},
            now=now,
        )
        if not moved:
            raise InvalidStateError(
                f"email {email_id} is {email.status}: only a FAILED email can be retried",
                field="email_id",
                status=email.status,
            )
        email = _reload(session, email_id)
    ring_doorbell(settings, email, clock=clock)
    return email


@validation.checked_arguments
def get_email(db: Database, actor: Actor, email_id: str) -> Email:
    email_id = validation.uuid_text(email_id, "email_id")
    with db.read() as session:
        return _scoped_email(session, actor, email_id)


@validation.checked_arguments
def list_emails(
    db: Database,
    actor: Actor,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
    after: str | None = None,
) -> Page[Email]:
    """Newest first; `status` filters (case-insensitive).

    `after` (an email id, the last of the previous page) starts the page just past that email:
    a keyset page reads only its own rows from the (workspace, created_at, id) index, where a
    large `offset` reads and discards every row before it.
    """
    conditions: list[Any] = [Email.workspace_id == actor.workspace_id]
    if status:
        wanted = status.strip().upper()
        if wanted not in EmailStatus.__members__:
            raise ValidationError(f"status: choose one of {', '.join(EmailStatus)}", field="status")
        conditions.append(Email.status == wanted)
    with db.read() as session:
        page_conditions = list(conditions)
        if after is not None:
            last = session.get(Email, validation.uuid_text(after, "after"))
            if last is None or last.workspace_id != actor.workspace_id:
                raise NotFoundError(f"email {after} not found", field="after")
            page_conditions.append(
                or_(
                    col(Email.created_at) < last.created_at,
                    and_(col(Email.created_at) == last.created_at, col(Email.id) > last.id),
                )
            )
        total = session.execute(select(func.count()).select_from(Email).where(*conditions)).scalar_one()
        rows = session.execute(
            select(Email)
            .where(*page_conditions)
            .order_by(col(Email.created_at).desc(), Email.id)
            .limit(max(1, min(int(limit), 500)))
            .offset(max(0, int(offset)))
        )
        return Page(items=list(rows.scalars().all()), total=int(total))


def list_events(db: Database, actor: Actor, email_id: str) -> list[EmailEvent]:
    return events.list_events(db, actor, email_id)


def last_sent_to(db: Database, actor: Actor, address: str, within_days: int = 30) -> Email | None:
    """The latest email to `address` in the last `within_days` that went (or is going) out.

    For the send review's "You emailed Ana 6 days ago": cancelled and failed emails never reached
    the person, so they do not count.
    """
    address = (address or "").strip().lower()
    if not address:
        return None
    since = utcnow() - timedelta(days=within_days)
    with db.read() as session:
        return (
            session.execute(
                select(Email)
                .where(
                    Email.workspace_id == actor.workspace_id,
                    Email.to_email == address,
                    col(Email.status).in_(sorted(email_state.UNFINISHED | email_state.DELIVERED)),
                    Email.created_at >= since,
                )
                .order_by(col(Email.created_at).desc())
                .limit(1)
            )
            .scalars()
            .first()
        )
