"""The send transaction: a send is a row before it is an action (docs/invariants.md, invariant 6).

`send` looks up the idempotency key first (same key and payload: the same email comes back; same
key, other payload: an error), then validates everything a rep could get wrong, then inserts the
immutable `emails` snapshot with status PENDING_SEND and freezes the draft, in ONE `BEGIN IMMEDIATE`
transaction, and only after the commit rings the queue's doorbell. If ringing fails the row is
still there and the worker's sweep finds it, so an intent, once acknowledged, is never lost.

The lifecycle after that (PENDING_SEND -> SENDING -> SENT | FAILED ...) has its one home in
`services/email_state.py`; the worker (`worker/tasks.py`) makes its moves, and the rep's verbs on a
sent email (cancel, retry, list, show) live in `services/outbox.py`. Ringing the doorbell never
starts a worker: the caller (the CLI verb, the composer's send flow) asks `worker_control` for one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from lumina_tui import queue
from lumina_tui.config import Settings
from lumina_tui.services import email_state, events, suppressions, templates, validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import (
    AlreadySentError,
    IdempotencyConflictError,
    NotFoundError,
    StaleRevisionError,
    SuppressedRecipientError,
    ValidationError,
)
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.db import sqlite_stamp
from lumina_tui.store.models import (
    Account,
    CompanyData,
    Email,
    EmailDraft,
    Prospect,
    Suppression,
    User,
    UserPreferences,
)
from lumina_tui.store.sqlite_rows import detached, insert_model, select_model, select_models

log = logging.getLogger(__name__)

# Keys derived from draft id + revision (the CLI sends without a key) live in their own namespace.
DERIVED_KEY_NAMESPACE = uuid.UUID("6f1d3c52-3a8e-4b8e-9a51-5d1c0f5e2b7a")
MAX_KEY_CHARS = 200


@dataclass(frozen=True, slots=True)
class SendResult:
    email: Email
    created: bool  # False: this key was already used for the same request; nothing new happened


# -- the request -----------------------------------------------------------------------------------


def derived_idempotency_key(draft_id: str, revision: int) -> str:
    """The key of a send without one: the same draft revision always yields the same key."""
    return str(uuid.uuid5(DERIVED_KEY_NAMESPACE, f"{draft_id}:{revision}"))


def request_fingerprint(
    *,
    draft_id: str,
    revision: int | None,
    from_account: str | None,
    to_email: str | None,
    accepted_suggestion_ids: Iterable[str],
) -> str:
    """What the caller asked for, canonically: a retry of the same request has the same fingerprint."""
    payload = {
        "draft_id": draft_id,
        "revision": revision,
        "from": (from_account or "").strip().lower() or None,
        "to": (to_email or "").strip().lower() or None,
        "accepted_suggestion_ids": sorted(set(accepted_suggestion_ids)),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _clean_key(value: str) -> str:
    key = str(value).strip()
    if not key:
        raise ValidationError("idempotency_key: must not be empty", field="idempotency_key")
    if len(key) > MAX_KEY_CHARS:
        raise ValidationError(
            f"idempotency_key: at most {MAX_KEY_CHARS} characters (a UUID is best)", field="idempotency_key"
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise ValidationError("idempotency_key: control characters are not allowed", field="idempotency_key")
    return key


def _clean_suggestion_ids(values: Iterable[str]) -> list[str]:
    ids = []
    for value in values:
        text = str(value).strip()
        if not text or len(text) > 200 or any(ord(ch) < 32 for ch in text):
            raise ValidationError(
                f"accepted_suggestion_ids: {value!r} is not a suggestion id", field="accepted_suggestion_ids"
            )
        ids.append(text)
    return sorted(set(ids))


def _by_key(session: Session, workspace_id: str, key: str) -> Email | None:
    return session.execute(
        select(Email).where(
            Email.workspace_id == workspace_id,
            Email.idempotency_key == key,
        )
    ).scalar_one_or_none()


def _replay(existing: Email, fingerprint: str) -> SendResult:
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflictError(
            f"idempotency_key: this key was already used for a different send (email {existing.id}); "
            "use a new key for a new send",
            field="idempotency_key",
            email_id=existing.id,
        )
    return SendResult(email=existing, created=False)


# -- validation and the snapshot -------------------------------------------------------------------


def _person_name(prospect: Prospect) -> str:
    return f"{prospect.first_name} {prospect.last_name}".strip()


def _prospect_snapshot(prospect: Prospect | None, company: CompanyData | None) -> dict[str, Any]:
    """The prospect's fields as they were when the email went out (analytics cannot backfill them)."""
    if prospect is None:
        return {}
    from lumina_tui.services import company_data, prospects

    snapshot = prospects.as_json(prospect)
    snapshot["company_data"] = company_data.as_json(company) if company is not None else None
    return snapshot


def score_snapshot(
    draft: EmailDraft,
    prospect: Prospect | None,
    company: CompanyData | None,
    preferences: UserPreferences | None,
) -> dict[str, Any]:
    """The pure AI score of what is being sent, or {} when the scorer is unavailable.

    Advisory only: a scorer that is missing or fails must never stop a send (failures stay in
    their lane), so every error here is logged and swallowed.
    """
    from lumina_tui.ai import scoring
    from lumina_tui.services import ai_inputs

    try:
        prospect_input = ai_inputs.prospect_input(prospect)
        company_input = ai_inputs.company_input(company)
        sender = ai_inputs.sender_profile(preferences) if preferences is not None else None
        result = scoring.score(
            draft.subject,
            draft.body_text,
            prospect=prospect_input,
            company=company_input,
            sender=sender,
            html=draft.body_html or None,
        )
        plain: dict[str, Any] = json.loads(json.dumps(result.as_json(), default=str))
        return plain
    except Exception:
        log.warning("scoring at send time failed; the email is stored without a score", exc_info=True)
        return {}


class _Replay(Exception):
    """Raised inside the write transaction to leave it (rolled back) when the key turned up there."""

    def __init__(self, existing: Email) -> None:
        super().__init__(existing.id)
        self.existing = existing


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything the insert needs, read and checked before the write transaction opens."""

    draft: EmailDraft
    account: Account
    to_email: str
    to_name: str
    from_name: str
    prospect_snapshot: dict[str, Any]
    score: dict[str, Any]


def _prepare(
    db: Database,
    actor: Actor,
    *,
    key: str,
    draft_id: str,
    revision: int | None,
    from_account: str | None,
    to_email: str | None,
) -> _Plan:
    """Look the key up, then read and check everything, in ONE read snapshot.

    One snapshot matters: a concurrent sender of the same key commits its row and the sent draft
    together, so this read sees both or neither, never "draft already sent" without the email
    that explains it (which must come back as the same email, not as an error).
    """
    from lumina_tui.services import accounts, company_data

    with db.read() as session:
        existing = _by_key(session, actor.workspace_id, key)
        if existing is not None:
            session.expunge(existing)
            raise _Replay(existing)
        user = session.get(User, actor.user_id)
        _check_user(actor, user.workspace_id if user is not None else None)
        draft = _check_draft(actor, session.get(EmailDraft, draft_id), draft_id, revision)
        prospect = session.get(Prospect, draft.prospect_id) if draft.prospect_id else None
        company = company_data.find_for_prospect(session, actor, prospect) if prospect else None
        preferences = session.get(UserPreferences, actor.user_id)

    account = accounts.resolve_account(db, actor, from_account or draft.account_id)
    return _checked_plan(draft, prospect, company, preferences, account, to_email)


def _check_user(actor: Actor, workspace_id: str | None) -> None:
    if workspace_id is None or workspace_id != actor.workspace_id:
        raise NotFoundError("the acting user does not belong to this workspace", field="user")


def _check_draft(actor: Actor, draft: EmailDraft | None, draft_id: str, revision: int | None) -> EmailDraft:
    """The draft a send may take: the actor's, not sent yet, at the revision the send names."""
    if draft is None or draft.workspace_id != actor.workspace_id:
        raise NotFoundError(f"draft {draft_id} not found", field="draft_id")
    if draft.sent_at is not None:
        raise AlreadySentError(
            f"draft {draft_id} was already sent (email {draft.email_id})",
            field="draft_id",
            email_id=draft.email_id,
        )
    if revision is not None and revision != draft.revision:
        raise StaleRevisionError(
            f"revision: the send names revision {revision} but the draft is at {draft.revision}; "
            "save and review it again",
            field="revision",
            stored_revision=draft.revision,
        )
    return draft


def _checked_plan(
    draft: EmailDraft,
    prospect: Prospect | None,
    company: CompanyData | None,
    preferences: UserPreferences | None,
    account: Account,
    to_email: str | None,
) -> _Plan:
    """Every check of what will be sent, and the snapshot, whichever way the rows were read."""
    from lumina_tui.providers.registry import AVAILABLE_PROVIDERS, not_available_message

    if account.provider not in AVAILABLE_PROVIDERS:
        raise ValidationError(f"from: {not_available_message(account.provider)}", field="from")

    if to_email is not None and str(to_email).strip():
        recipient = validation.email_address(to_email, "to")
    elif prospect is not None:
        recipient = validation.email_address(prospect.email, "to")
    else:
        raise ValidationError("to: this draft has no prospect; give a recipient address", field="to")
    to_name = _person_name(prospect) if prospect and prospect.email.lower() == recipient.lower() else ""

    # Header injection: any CR or LF in a value that becomes a header is refused, whoever stored it,
    # and so is whatever else the message policy refuses (Unicode line separators) or passes on raw
    # (NUL, ESC): before the row exists, naming the field, never found broken by the worker.
    validation.header_text(draft.subject, "subject")
    if to_name and prospect is not None:
        validation.header_text(prospect.first_name, "first_name", max_chars=200)
        validation.header_text(prospect.last_name, "last_name", max_chars=200)
    validation.header_text(to_name, "to_name", max_chars=200)
    validation.header_text(account.display_name, "from_name", max_chars=200)
    validation.email_address(account.email, "from")
    validation.body_text(draft.body_text)
    if not draft.subject.strip() and not draft.body_text.strip():
        raise ValidationError("body: the draft is empty; there is nothing to send", field="body")
    for field, text in (("subject", draft.subject), ("body", draft.body_text)):
        leftover = templates.leftover_fields(text)
        if leftover:
            names = ", ".join(leftover)
            raise ValidationError(
                f"{field}: {names} was never filled in (it would reach the recipient as written); "
                "replace it before sending",
                field=field,
                fields=leftover,
            )
    _check_smtputf8(account, recipient)
    _check_message_builds(draft, account, recipient, to_name)
    return _Plan(
        draft=draft,
        account=account,
        to_email=recipient,
        to_name=to_name,
        from_name=account.display_name,
        prospect_snapshot=_prospect_snapshot(prospect, company),
        score=score_snapshot(draft, prospect, company, preferences),
    )


def _check_smtputf8(account: Account, recipient: str) -> None:
    """A non-ASCII mailbox name (`üser@...`) only through a provider that carries SMTPUTF8."""
    from lumina_tui.providers.headers import needs_smtputf8
    from lumina_tui.providers.registry import supports_smtputf8

    if supports_smtputf8(account.provider, account.settings):
        return
    for field, address in (("to", recipient), ("from", account.email)):
        if needs_smtputf8(address):
            hint = (
                " (if its server offers SMTPUTF8, `lumina accounts test` records that)"
                if account.provider == "smtp"
                else ""
            )
            raise ValidationError(
                f"{field}: {address} has a non-ASCII mailbox name, which needs SMTPUTF8; the account "
                f"{account.name} cannot send it{hint}",
                field=field,
            )


def _check_message_builds(draft: EmailDraft, account: Account, recipient: str, to_name: str) -> None:
    """Refuse now what the worker's `build_message` would refuse (`check_buildable`: the same
    checks and header policies, without building and serialising the whole message)."""
    from lumina_tui.providers.mime_builder import check_buildable
    from lumina_tui.providers.registry import supports_smtputf8

    try:
        check_buildable(
            from_email=account.email,
            from_name=account.display_name,
            to_email=recipient,
            to_name=to_name,
            subject=draft.subject,
            body_text=draft.body_text,
            body_html=draft.body_html,
            message_id=f"<check@{validation.email_domain(account.email)}>",
            smtputf8=supports_smtputf8(account.provider, account.settings),
        )
    except (ValueError, TypeError, UnicodeError) as exc:
        text = str(exc)  # the builder's errors start with the field: "subject: ..."
        field, colon, _rest = text.partition(":")
        if not colon or " " in field:
            field, text = "message", f"message: the message could not be built: {text}"
        raise ValidationError(text, field=field) from None


def _check_not_suppressed(session: Session, actor: Actor, address: str) -> None:
    _refuse_suppressed(suppressions.is_suppressed(session, actor.workspace_id, address), address)


def _refuse_suppressed(entry: Suppression | None, address: str) -> None:
    if entry is not None:
        what = "this address" if entry.kind == "address" else f"the domain {entry.value}"
        why = f" ({entry.reason})" if entry.reason else ""
        raise SuppressedRecipientError(
            f"to: {address} must not be contacted: {what} is on the suppression list{why}",
            field="to",
            suppression=entry.value,
        )


# -- send ------------------------------------------------------------------------------------------


@validation.checked_arguments
def send(
    db: Database,
    actor: Actor,
    *,
    draft_id: str,
    idempotency_key: str | None = None,
    from_account: str | None = None,
    to_email: str | None = None,
    revision: int | None = None,
    accepted_suggestion_ids: Iterable[str] = (),
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> SendResult:
    """Turn a draft into a PENDING_SEND email, exactly once per idempotency key.

    `clock` (naive UTC) stamps the row and its undo window; a test hands in its own.
    """
    draft_id = validation.uuid_text(draft_id, "draft_id")
    if revision is not None:
        revision = validation.revision_number(revision)
    suggestion_ids = _clean_suggestion_ids(accepted_suggestion_ids)
    if idempotency_key is None and (revision is not None or not db.is_sqlite):
        key_revision = revision if revision is not None else _stored_revision(db, actor, draft_id)
        key = derived_idempotency_key(draft_id, key_revision)
    elif idempotency_key is None:
        key = ""  # the sqlite3 path derives it from the revision it reads in its own transaction
    else:
        key = _clean_key(idempotency_key)
    fingerprint = request_fingerprint(
        draft_id=draft_id,
        revision=revision,
        from_account=from_account,
        to_email=to_email,
        accepted_suggestion_ids=suggestion_ids,
    )

    request: dict[str, Any] = {
        "draft_id": draft_id, "revision": revision, "from_account": from_account, "to_email": to_email
    }
    if db.is_sqlite:
        try:
            with db.write_sqlite() as conn:
                email = _send_sqlite(
                    conn, actor, settings, key=key or None, fingerprint=fingerprint,
                    suggestions=suggestion_ids, clock=clock, **request,
                )
        except _Replay as replay:
            return _replay(replay.existing, fingerprint)
        ring_doorbell(settings, email, clock=clock)
        return SendResult(email=email, created=True)

    try:
        plan = _prepare(db, actor, key=key, **request)
        email = _insert(
            db, actor, settings, plan, key=key, fingerprint=fingerprint, suggestions=suggestion_ids,
            clock=clock,
        )
    except _Replay as replay:
        return _replay(replay.existing, fingerprint)
    except IntegrityError:
        # Another sender committed the same key between our check and our insert.
        with db.read() as session:
            existing = _by_key(session, actor.workspace_id, key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)

    ring_doorbell(settings, email, clock=clock)
    return SendResult(email=email, created=True)


def _stored_revision(db: Database, actor: Actor, draft_id: str) -> int:
    with db.read() as session:
        draft = session.get(EmailDraft, draft_id)
    if draft is None or draft.workspace_id != actor.workspace_id:
        raise NotFoundError(f"draft {draft_id} not found", field="draft_id")
    return draft.revision


def _message_id(email_id: str, account: Account) -> str:
    from lumina_tui.providers.mime_builder import make_message_id

    try:
        return make_message_id(email_id, validation.email_domain(account.email))
    except ValueError as exc:
        raise ValidationError(f"from: {exc}", field="from") from None


def _email_values(
    actor: Actor,
    settings: Settings,
    plan: _Plan,
    *,
    email_id: str,
    message_id: str,
    key: str,
    fingerprint: str,
    suggestions: list[str],
    now: datetime,
) -> dict[str, Any]:
    """The immutable snapshot row's values, whichever path inserts it."""
    from lumina_tui.services import tracking

    draft, account = plan.draft, plan.account
    return dict(
        id=email_id,
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        draft_id=draft.id,
        account_id=account.id,
        provider=account.provider,
        from_email=account.email,
        from_name=plan.from_name,
        to_email=plan.to_email,
        to_name=plan.to_name,
        cc=[],
        bcc=[],
        subject=draft.subject,
        body_text=draft.body_text,
        # Open/click tracking only for an account that opted in (services/tracking.py).
        body_html=tracking.body_html_for(account, draft.body_html, email_id, settings),
        template_id=draft.template_id,
        prospect_id=draft.prospect_id,
        prospect_snapshot=plan.prospect_snapshot,
        score_snapshot=plan.score,
        accepted_suggestion_ids=suggestions,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        message_id=message_id,
        send_after=now + timedelta(seconds=max(0.0, settings.undo_window_seconds)),
        created_at=now,
        status=email_state.INITIAL,
        attempts=0,
        updated_at=now,
    )


def _queued(plan: _Plan, email: Email, settings: Settings) -> dict[str, Any]:
    """The `queued` event of a send: the first delivery step, in the same transaction as the row."""
    return {
        "workspace_id": email.workspace_id,
        "email_id": email.id,
        "event_type": "queued",
        "provider_event_id": f"{email.id}:queued",
        "data": {
            "provider": plan.account.provider,
            "account": plan.account.name,
            "send_after": iso(email.send_after),
            "undo_window_seconds": max(0.0, settings.undo_window_seconds),
        },
        "occurred_at": email.created_at,
    }


def _draft_moved(draft_id: str, sent_at: datetime | None, revision: int) -> Exception:
    """Why marking the draft sent did not take: it was sent, or saved again, since it was read."""
    if sent_at is not None:
        return AlreadySentError(f"draft {draft_id} was already sent", field="draft_id")
    return StaleRevisionError(
        f"revision: the draft changed while sending (now revision {revision}); review it again",
        field="revision",
        stored_revision=revision,
    )


def _insert(
    db: Database,
    actor: Actor,
    settings: Settings,
    plan: _Plan,
    *,
    key: str,
    fingerprint: str,
    suggestions: list[str],
    clock: Callable[[], datetime] = utcnow,
) -> Email:
    from lumina_tui.services import drafts

    draft = plan.draft
    email_id = new_id()
    message_id = _message_id(email_id, plan.account)
    # A concurrent sender of the same key is caught by UNIQUE(workspace_id, idempotency_key): the
    # INSERT below raises IntegrityError, this transaction rolls back, and `send` re-reads the row.
    with db.write() as session:
        _check_not_suppressed(session, actor, plan.to_email)
        email = Email(
            **_email_values(
                actor, settings, plan, email_id=email_id, message_id=message_id, key=key,
                fingerprint=fingerprint, suggestions=suggestions, now=clock(),
            )
        )
        session.add(email)
        session.flush()
        if not drafts.mark_sent(session, actor, draft.id, email.id, draft.revision):
            current = session.execute(
                select(EmailDraft.sent_at, EmailDraft.revision).where(EmailDraft.id == draft.id)
            ).one()
            raise _draft_moved(draft.id, current.sent_at, current.revision)
        events.append_event(session, **_queued(plan, email, settings))
        return email


# -- the same send on the sqlite3 connection ---------------------------------------------------------


def _plan_sqlite(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    key: str | None,
    draft_id: str,
    revision: int | None,
    from_account: str | None,
    to_email: str | None,
) -> tuple[str, _Plan]:
    """`_prepare` on the sqlite3 connection: the same reads, the same rules, and the key (derived
    from the stored revision in this same transaction when the caller gave none)."""
    from lumina_tui.services import accounts, company_data

    draft = select_model(conn, EmailDraft, "id = ?", (draft_id,))
    if key is None:
        key = derived_idempotency_key(draft_id, _check_found(actor, draft, draft_id).revision)
    existing = select_model(
        conn, Email, "workspace_id = ? AND idempotency_key = ?", (actor.workspace_id, key)
    )
    if existing is not None:
        raise _Replay(existing)
    user = conn.execute("SELECT workspace_id FROM users WHERE id = ?", (actor.user_id,)).fetchone()
    _check_user(actor, user[0] if user is not None else None)
    draft = _check_draft(actor, draft, draft_id, revision)
    prospect = select_model(conn, Prospect, "id = ?", (draft.prospect_id,)) if draft.prospect_id else None
    company = company_data.find_for_prospect_sqlite(conn, actor, prospect) if prospect else None
    preferences = select_model(conn, UserPreferences, "user_id = ?", (actor.user_id,))
    in_workspace = select_models(
        conn, Account, "workspace_id = ? ORDER BY is_default DESC, lower(name)", (actor.workspace_id,)
    )
    account = accounts.choose_account(
        in_workspace,
        preferences.default_account_id if preferences is not None else None,
        from_account or draft.account_id,
    )
    return key, _checked_plan(draft, prospect, company, preferences, account, to_email)


def _check_found(actor: Actor, draft: EmailDraft | None, draft_id: str) -> EmailDraft:
    if draft is None or draft.workspace_id != actor.workspace_id:
        raise NotFoundError(f"draft {draft_id} not found", field="draft_id")
    return draft


_MARK_SENT_SQLITE = (
    "UPDATE email_drafts SET sent_at = ?, email_id = ? "
    "WHERE id = ? AND workspace_id = ? AND sent_at IS NULL AND revision = ?"
)


def _send_sqlite(
    conn: sqlite3.Connection,
    actor: Actor,
    settings: Settings,
    *,
    key: str | None,
    fingerprint: str,
    draft_id: str,
    revision: int | None,
    from_account: str | None,
    to_email: str | None,
    suggestions: list[str],
    clock: Callable[[], datetime],
) -> Email:
    """The whole send in the one BEGIN IMMEDIATE of `Database.write_sqlite` (issue 14 point 3).

    Through the ORM a send cost ~12 round trips of ~0.3-0.5 ms each (a Session, the identity map,
    a unit of work) in two read snapshots and a write transaction. Here the same reads, rules and
    rows take a dozen sqlite3 statements in one transaction: the key is looked up, the draft
    checked and marked sent, and the row, the draft mark and the `queued` event committed
    together, with the writer's lock held, so no concurrent sender can slip in between (the ORM
    path's UNIQUE-violation retry cannot happen here; the constraint still stands guard).
    """
    key, plan = _plan_sqlite(
        conn,
        actor,
        key=key,
        draft_id=draft_id,
        revision=revision,
        from_account=from_account,
        to_email=to_email,
    )
    email_id = new_id()
    message_id = _message_id(email_id, plan.account)
    entry = suppressions.is_suppressed_sqlite(conn, actor.workspace_id, plan.to_email)
    _refuse_suppressed(entry, plan.to_email)
    email = detached(
        Email,
        _email_values(
            actor, settings, plan, email_id=email_id, message_id=message_id, key=key,
            fingerprint=fingerprint, suggestions=suggestions, now=clock(),
        ),
    )
    insert_model(conn, email)
    draft = plan.draft
    marked = conn.execute(
        _MARK_SENT_SQLITE, (sqlite_stamp(utcnow()), email.id, draft.id, actor.workspace_id, draft.revision)
    )
    if marked.rowcount != 1:
        current = conn.execute(
            "SELECT sent_at, revision FROM email_drafts WHERE id = ?", (draft.id,)
        ).fetchone()
        raise _draft_moved(draft.id, current[0], current[1])
    events.append_event_sqlite(conn, **_queued(plan, email, settings))
    return email


def ring_doorbell(settings: Settings, email: Email, *, clock: Callable[[], datetime] = utcnow) -> bool:
    """Enqueue the worker's doorbell for `email`, due at its `send_after`; never raises.

    Called only after the row is committed. A failure here loses nothing: the row is the truth,
    and the worker's sweep re-enqueues due PENDING_SEND rows whose doorbell never rang. It starts
    no worker: the caller asks `worker_control.ensure_running` (a sidecar leaves when idle, so the
    CLI and the composer ask after every send).
    """
    delay = max(0.0, (email.send_after - clock()).total_seconds())
    rung = True
    try:
        queue.enqueue_send(settings, email.id, delay_seconds=delay)
    except Exception:
        log.warning("could not enqueue email %s; the worker's sweep will pick it up", email.id, exc_info=True)
        rung = False
    return rung


def prepare_to_send(
    settings: Settings,
    db: Database | None = None,
    actor: Actor | None = None,
    *,
    draft_id: str | None = None,
    idempotency_key: str | None = None,
    revision: int | None = None,
    from_account: str | None = None,
    to_email: str | None = None,
) -> None:
    """Open the queue a send will ring (its file, its tables, huey's storage) ahead of the send,
    and, given the draft under review, rehearse the send's read-and-check on it (nothing written).

    The composer calls this in a thread while the rep reads the send review, so that the first send
    of a session does not pay between Enter and the "Queued" banner for opening the queue, nor for
    the modules and SQL statements the send uses the first time (a fresh process's first send took
    about twice as long as its second; issue 10 point 9). Never raises: a queue that cannot be
    opened now is met, and handled, by `ring_doorbell`; whatever the rehearsal finds wrong, the send
    itself finds again and reports.
    """
    try:
        queue.doorbells(settings)
    except Exception:
        log.debug("could not open the queue ahead of a send", exc_info=True)
    if db is None or actor is None or draft_id is None:
        return
    try:
        if db.is_sqlite:
            with db.read_sqlite() as conn:
                _plan_sqlite(
                    conn,
                    actor,
                    key=idempotency_key,
                    draft_id=draft_id,
                    revision=revision,
                    from_account=from_account,
                    to_email=to_email,
                )
            return
        _prepare(
            db,
            actor,
            key=idempotency_key or derived_idempotency_key(draft_id, revision or 0),
            draft_id=draft_id,
            revision=revision,
            from_account=from_account,
            to_email=to_email,
        )
    except Exception:
        log.debug("the send rehearsal failed; the send will say why", exc_info=True)
