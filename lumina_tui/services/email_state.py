"""An email's delivery state changes in one way only: a conditional UPDATE and its event, together.

Every change of status (cancelled by the rep, retried, sent or failed by the worker) must be decided
by the row itself (the WHERE names the states it may leave, so two racing actors cannot both win)
and must leave its event in the append-only log in the same transaction, so the log never claims
what the row denies nor misses what the row shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from lumina_tui.logs import scrub
from lumina_tui.services import events
from lumina_tui.store.models import Email

#: What a row leaves behind when no worker holds it any more and nothing is scheduled.
RELEASED: dict[str, Any] = {"next_attempt_at": None, "lease_owner": None, "lease_expires_at": None}


def transition(
    session: Session,
    email: Email,
    *,
    allowed: list[Any],
    values: dict[str, Any],
    event_type: str,
    provider_event_id: str,
    data: dict[str, Any],
    now: datetime,
    provider: str = events.LUMINA_PROVIDER,
    occurred_at: datetime | None = None,
) -> bool:
    """Move `email` if it still matches `allowed`; append the event only if it moved.

    Runs inside the caller's write transaction. Returns False (and writes nothing) when the row had
    already moved on, which each caller turns into its own answer. A provider's event (a bounce
    found by mailbox sync) names its `provider` and when it happened there (`occurred_at`).
    """
    if isinstance(values.get("last_error"), str):
        values = {**values, "last_error": scrub(values["last_error"])}
    result = session.execute(
        update(Email)
        .where(Email.id == email.id, Email.workspace_id == email.workspace_id, *allowed)  # type: ignore[arg-type]
        .values(**values, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    events.append_event(
        session,
        workspace_id=email.workspace_id,
        email_id=email.id,
        event_type=event_type,
        provider=provider,
        provider_event_id=provider_event_id,
        data=data,
        occurred_at=occurred_at or now,
    )
    return True
