"""Per-mailbox send limits: how long an email must wait so its mailbox stays under its caps.

Gmail and Exchange Online refuse mail over their per-minute and daily caps (and may suspend the
mailbox); Lumina stays under them instead. Caps come from config per kind of account
(`[send_limits.gmail] per_minute, per_day`, 0 = none) and an account may override them in its own
settings. A send counts from the moment it is claimed (SENDING) until it leaves the window: the
last minute for `per_minute`, the last 24 hours for `per_day` (the providers count rolling windows).

`wait_seconds` runs inside the worker's claim transaction (BEGIN IMMEDIATE), so two workers cannot
both take the last slot. An email over the limit is not failed: it stays PENDING_SEND, due when the
oldest send leaves the window, its `last_error` saying "scheduled (mailbox limit): ...", which the
outbox and `lumina emails list` show as "scheduled (mailbox limit)".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from lumina_tui.config import Settings
from lumina_tui.services import email_state
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store.models import Account, Email

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Limits:
    per_minute: int
    per_day: int

    @property
    def any(self) -> bool:
        return self.per_minute > 0 or self.per_day > 0


def limits_for(settings: Settings, provider: str, account: Account | None) -> Limits:
    return limits_of(settings, provider, account.settings if account is not None else None)


def limits_of(settings: Settings, provider: str, account_settings: Mapping[str, Any] | None) -> Limits:
    """The caps of a kind of account, an account's own settings (`per_minute`, `per_day`) winning."""
    default = settings.send_limits.for_kind(provider)
    own = dict(account_settings or {})
    return Limits(
        per_minute=int(own.get("per_minute", default.per_minute) or 0),
        per_day=int(own.get("per_day", default.per_day) or 0),
    )


def _window(session: Session, account_id: str, since: datetime) -> tuple[int, datetime | None]:
    """(sends in the window including those in flight, the oldest send time in it)."""
    # Counted against the caps: claimed (in flight) or gone out (a bounce went out too).
    sent = (col(Email.status).in_(sorted(email_state.DELIVERED))) & (col(Email.sent_at) > since)
    count, oldest = session.execute(
        select(func.count(), func.min(Email.sent_at)).where(
            Email.account_id == account_id,
            or_(sent, col(Email.status) == EmailStatus.SENDING),
        )
    ).one()
    return int(count), oldest


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
    reason: str


def wait_seconds(session: Session, settings: Settings, email: Email, now: datetime) -> Wait | None:
    """None when the email's mailbox may send now; else how long to wait and why (for the rep)."""
    if not email.account_id:
        return None
    account = session.get(Account, email.account_id)
    limits = limits_for(settings, email.provider, account)
    if not limits.any:
        return None
    for cap, span, label in ((limits.per_minute, MINUTE, "a minute"), (limits.per_day, DAY, "24 hours")):
        if cap <= 0:
            continue
        count, oldest = _window(session, email.account_id, now - span)
        if count >= cap:
            # The next slot frees when the oldest send in the window leaves it (or, when in-flight
            # sends fill it, as soon as one of them is done).
            seconds = max(1.0, ((oldest + span) - now).total_seconds()) if oldest is not None else 1.0
            return Wait(seconds, f"{count} sent in {label} (limit {cap})")
    return None


def room(session: Session, settings: Settings, provider: str, account: Account | None,
         now: datetime) -> int | None:
    """How many more emails the account may claim now (None: no caps), from the rows as they are.

    The worker's batch claim reads this once per account per batch and counts down in memory as it
    claims, inside the same transaction (BEGIN IMMEDIATE), so the rows stay the truth and a second
    worker sees the claims when it counts.
    """
    if account is None:
        return None
    limits = limits_for(settings, provider, account)
    if not limits.any:
        return None
    left: list[int] = []
    for cap, span in ((limits.per_minute, MINUTE), (limits.per_day, DAY)):
        if cap > 0:
            count, _oldest = _window(session, account.id, now - span)
            left.append(max(0, cap - count))
    return min(left)
