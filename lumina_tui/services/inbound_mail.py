"""One message from the rep's mailbox becomes what it means for our emails: `replied` or `bounced`.

Runs inside mailbox sync's write transaction, so a message's events, a hard bounce's new status and
its suppression commit together with the cursor that says the message was read. Every event is
keyed `(provider, "<account>:<message key>:<email>:<type>")`, where the message key is the
provider's stable id for the message (never an IMAP UID), so reading a message twice — a sync run
twice, a resync after an expired cursor — records it once.

    bounce (hard)  SENT -> BOUNCED (the `bounce` move of email_state), + the address suppressed
    bounce (soft)  recorded only: the email stays SENT and the address stays mailable
    reply          recorded with a snippet of what the prospect wrote (the email stays SENT)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from lumina_tui.providers.inbox import InboundMessage
from lumina_tui.services import email_state, events, suppressions
from lumina_tui.services.bounces import EMAIL_ID_HEADER, Bounce, BouncedRecipient, parse_bounce
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.replies import (
    body_text,
    is_automatic,
    quoted_email_ids,
    referenced_message_ids,
    snippet,
)
from lumina_tui.store import utcnow
from lumina_tui.store.models import Account, Email, EmailEvent

# Emails a reply may be about: those that left (a bounce can arrive after a later reply).
DELIVERED = tuple(sorted(email_state.DELIVERED))
# A bounce may also come back before the worker has committed SENT (a local MTA is that fast).
MAY_BOUNCE = (EmailStatus.SENDING, *DELIVERED)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one message meant for one email; `recorded` is False when it was recorded before."""

    event_type: str  # replied | bounced | ignored
    email_id: str | None
    recorded: bool
    data: dict[str, Any] = field(default_factory=dict)
    moved_to_bounced: bool = False  # a hard bounce that moved the email SENT -> BOUNCED


def parse(raw: bytes) -> Message:
    return message_from_bytes(raw, policy=compat32)


def record_message(
    session: Session, account: Account, message: InboundMessage, *, provider: str
) -> list[Outcome]:
    """Record what `message` means for the account's emails (nothing, when it is not about them)."""
    msg = parse(message.raw)
    if msg.get(EMAIL_ID_HEADER):
        return []  # one of our own sent messages (Gmail history, a copy to self): not an answer
    occurred = _occurred_at(msg, message.received_at)
    bounce = parse_bounce(msg)
    if bounce is not None:
        return _record_bounce(session, account, message, msg, bounce, provider=provider, occurred=occurred)
    return _record_reply(session, account, message, msg, provider=provider, occurred=occurred)


# -- bounces ---------------------------------------------------------------------------------------


def _record_bounce(
    session: Session,
    account: Account,
    message: InboundMessage,
    msg: Message,
    bounce: Bounce,
    *,
    provider: str,
    occurred: datetime,
) -> list[Outcome]:
    originals = _emails_named(
        session, account, email_ids=bounce.email_ids, message_ids=bounce.message_ids, statuses=MAY_BOUNCE
    )
    outcomes: list[Outcome] = []
    for recipient in bounce.recipients:
        email, matched_by = _bounced_email(session, account, recipient, originals, bounce)
        if email is None:
            outcomes.append(Outcome("ignored", None, False, {"reason": "not one of our emails"}))
            continue
        data = {
            "kind": recipient.kind,
            "recipient": recipient.address,
            "status": recipient.status,
            "diagnostic": recipient.diagnostic,
            "reported_by": parseaddr(str(msg.get("From") or ""))[1],
            "subject": _clip(str(msg.get("Subject") or ""), 200),
            "matched_by": matched_by,
        }
        # One event per failed recipient (a DSN may report the To and a Cc of one email).
        event_id = f"{account.id}:{message.key}:{email.id}:bounced:{recipient.address}"
        recorded = moved = False
        if recipient.hard:
            reason = " ".join(x for x in (recipient.status, recipient.diagnostic) if x) or "hard bounce"
            recorded = moved = email_state.transition(
                session,
                email,
                email_state.BOUNCE,
                values={"last_error": _clip(f"bounced: {reason}", 500)},
                provider_event_id=event_id,
                data=data,
                now=utcnow(),
                provider=provider,
                occurred_at=occurred,
            )
            # Only an address this email went to: a damaged report can name a cut-off or foreign
            # address (seen by make fuzz), which must neither be suppressed nor fail the sync.
            sent_to = {str(a).lower() for a in [email.to_email, *(email.cc or []), *(email.bcc or [])]}
            if recipient.address.lower() in sent_to:
                suppressions.suppress_in(
                    session, account.workspace_id, recipient.address, f"hard bounce: {reason}"
                )
        if not recorded:
            recorded = events.append_event(
                session,
                workspace_id=account.workspace_id,
                email_id=email.id,
                event_type="bounced",
                provider=provider,
                provider_event_id=event_id,
                data=data,
                occurred_at=occurred,
            )
        outcomes.append(Outcome("bounced", email.id, recorded, data, moved_to_bounced=moved))
    return outcomes


def settle_hard_bounces(session: Session, account: Account) -> int:
    """Move to BOUNCED the emails of this account that are SENT yet have a hard `bounced` event.

    A bounce can be read before the row says SENT: Postfix may return the DSN to the mailbox before
    the worker commits its `finish`. The event was recorded then (the row was still SENDING and did
    not move); this settles it on the next sync. Returns how many emails moved.
    """
    rows = session.execute(
        select(Email, EmailEvent)
        .join(EmailEvent, col(EmailEvent.email_id) == Email.id)
        .where(
            Email.workspace_id == account.workspace_id,
            Email.account_id == account.id,
            Email.status == EmailStatus.SENT,
            EmailEvent.event_type == "bounced",
            # JSON path on either engine (json_extract on SQLite, ->> on PostgreSQL).
            EmailEvent.event_data["kind"].as_string() == "hard",
        )
    ).all()
    moved = 0
    for email, event in rows:
        data = dict(event.event_data or {})
        reason = " ".join(str(data.get(k) or "") for k in ("status", "diagnostic")).strip() or "hard bounce"
        if email_state.transition(
            session,
            email,
            email_state.BOUNCE,
            values={"last_error": _clip(f"bounced: {reason}", 500)},
            provider_event_id=event.provider_event_id,  # already recorded: no second event
            data=data,
            now=utcnow(),
            provider=event.provider,
            occurred_at=event.occurred_at,
        ):
            moved += 1
    return moved


def _bounced_email(
    session: Session,
    account: Account,
    recipient: BouncedRecipient,
    originals: list[Email],
    bounce: Bounce,
) -> tuple[Email | None, str]:
    """The email this recipient's failure is about, and how we know."""
    for email in originals:
        if recipient.address in _recipients(email):
            return email, "original-headers"
    if len(originals) == 1 and len(bounce.recipients) == 1:
        # The remote side rewrote the address (an alias, a forward): the returned headers still say
        # which email it was.
        return originals[0], "original-headers"
    # A bounce that returned nothing of the original: the newest email this account sent there.
    newest = session.exec(
        select(Email)
        .where(
            Email.workspace_id == account.workspace_id,
            Email.account_id == account.id,
            Email.to_email == recipient.address,
            col(Email.status).in_(MAY_BOUNCE),
        )
        .order_by(col(Email.sent_at).desc())
        .limit(1)
    ).one_or_none()
    return newest, "recipient"


def _recipients(email: Email) -> set[str]:
    return {a.lower() for a in [email.to_email, *(email.cc or []), *(email.bcc or [])]}


# -- replies ---------------------------------------------------------------------------------------


def _record_reply(
    session: Session,
    account: Account,
    message: InboundMessage,
    msg: Message,
    *,
    provider: str,
    occurred: datetime,
) -> list[Outcome]:
    referenced = referenced_message_ids(msg)
    text = body_text(msg)
    quoted = quoted_email_ids(text)
    if not referenced and not quoted and not message.thread_id:
        return []
    email, matched_by = _replied_email(session, account, referenced, quoted)
    if email is None and message.thread_id:
        email, matched_by = _email_in_thread(session, account, message.thread_id), "thread"
    if email is None:
        return []
    sender_name, sender = parseaddr(str(msg.get("From") or ""))
    if is_automatic(msg):
        return [Outcome("ignored", email.id, False, {"reason": "automatic reply", "from": sender})]
    data = {
        "from": sender,
        "from_name": _clip(sender_name, 200),
        "subject": _clip(str(msg.get("Subject") or ""), 200),
        "snippet": snippet(text),
        "message_id": _clip(str(msg.get("Message-ID") or "").strip(), 300),
        "matched_by": matched_by,
    }
    if message.thread_id:
        data["thread_id"] = message.thread_id
    recorded = events.append_event(
        session,
        workspace_id=account.workspace_id,
        email_id=email.id,
        event_type="replied",
        provider=provider,
        provider_event_id=f"{account.id}:{message.key}:{email.id}:replied",
        data=data,
        occurred_at=occurred,
    )
    return [Outcome("replied", email.id, recorded, data)]


def _replied_email(
    session: Session, account: Account, referenced: list[str], quoted: list[str]
) -> tuple[Email | None, str]:
    """The one email a reply answers: the nearest in its references, else one quoted in its body."""
    named = _emails_named(session, account, email_ids=quoted, message_ids=referenced)
    by_message_id: dict[str, Email] = {}
    for email in named:
        for value in (email.sent_message_id, email.message_id, email.provider_message_id):
            if value:
                by_message_id.setdefault(value, email)
    for value in referenced:
        if value in by_message_id:
            return by_message_id[value], "in-reply-to" if value == referenced[0] else "references"
    by_id = {email.id: email for email in named}
    for value in quoted:
        if value in by_id:
            return by_id[value], "quoted-email-id"
    return None, ""


def _email_in_thread(session: Session, account: Account, thread_id: str) -> Email | None:
    """The newest email this account sent in the provider's thread (Gmail threadId, Graph
    conversationId): a reply whose client dropped In-Reply-To still lands in our thread."""
    return session.execute(
        select(Email)
        .where(
            Email.workspace_id == account.workspace_id,
            Email.account_id == account.id,
            Email.provider_thread_id == thread_id,
            col(Email.status).in_(DELIVERED),
        )
        .order_by(col(Email.sent_at).desc())
        .limit(1)
    ).scalar_one_or_none()


# -- shared ----------------------------------------------------------------------------------------


def _emails_named(
    session: Session,
    account: Account,
    *,
    email_ids: list[str],
    message_ids: list[str],
    statuses: tuple[str, ...] = DELIVERED,
) -> list[Email]:
    """This workspace's emails in `statuses` with one of these ids or Message-IDs."""
    conditions: list[Any] = []
    if email_ids:
        conditions.append(col(Email.id).in_(email_ids[:100]))
    if message_ids:
        conditions.append(col(Email.message_id).in_(message_ids[:100]))
        conditions.append(col(Email.sent_message_id).in_(message_ids[:100]))
        conditions.append(col(Email.provider_message_id).in_(message_ids[:100]))
    if not conditions:
        return []
    rows = session.execute(
        select(Email).where(
            Email.workspace_id == account.workspace_id,
            col(Email.status).in_(statuses),
            or_(*conditions),
        )
    )
    return list(rows.scalars().all())


def _occurred_at(msg: Message, received_at: datetime | None) -> datetime:
    """When it happened at the provider: the message's Date, else when the mailbox got it (naive UTC)."""
    when: datetime | None = None
    try:
        value = msg.get("Date")
        when = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        when = None
    when = when or received_at
    if when is None:
        return utcnow()
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _clip(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
