"""What the worker does when a doorbell rings: claim, send, finish or back off; and the sweep.

Every state change is a move of the lifecycle table (`services/email_state.py`) made through
`email_state.transition`, a conditional UPDATE, so a duplicate doorbell, a second thread or a
restarted worker can never move a row twice:

    claim    PENDING_SEND and due      -> SENDING  (attempts + 1, a lease owned by this attempt)
    finish   SENDING, lease is mine    -> SENT     (+ the `sent` event, in the same transaction)
    backoff  SENDING, lease is mine    -> PENDING_SEND with next_attempt_at (+ `deferred`)
    fail     SENDING, lease is mine    -> FAILED   (+ the `failed` event)
    sweep    SENDING, owner dead or lease expired -> PENDING_SEND (+ `interrupted`)

A doorbell is a wake-up, not a unit of work: after the email it names, the worker drains every due
email (`drain`: a few claimed per transaction, each sent on the thread's open connection and
finished in its own transaction right after the provider accepted it), so a burst costs one
doorbell's overhead, not one per email; the later doorbells of drained emails find them gone
(`not_claimable`, from a plain read).

Every attempt therefore leaves exactly one event saying how it ended, with its number (`attempt`)
and `result` (sent, transient_failure, needs_sign_in, permanent_failure, interrupted); with the
`queued` event of the send transaction they make the outbox timeline. Each event's provider_event_id
names the claim's lease token, so a replayed step can never append it twice.

A message can still go out twice in one case only: the worker dies after the provider accepted the
message and before `finish` commits. The next attempt then asks the provider whether it already
has the message (`find_sent`, where the provider can tell: Maildir, Gmail and Outlook can, SMTP
cannot). The same check runs before the retry of any failure that may have come after the provider
accepted the message (a timeout, a 5xx: the provider marks the error `uncertain`).

An account whose refresh token the provider refused (`SignInRequired`) is marked "needs sign-in" and
its emails wait, PENDING_SEND, with that reason, until the rep signs in again (which rings them).
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from lumina_tui import queue
from lumina_tui.config import Settings
from lumina_tui.logs import scrub
from lumina_tui.providers.base import (
    AuthError,
    PermanentProviderError,
    SendReceipt,
    SignInRequired,
    TransientProviderError,
)
from lumina_tui.providers.mime_builder import WireMessage, build_message, build_wire
from lumina_tui.providers.registry import SMTPUTF8_PROVIDERS
from lumina_tui.services import accounts, email_state, mailbox_limits
from lumina_tui.services.email_state import (
    INTERRUPTED_PREFIX,
    LIMIT_PREFIX,
    SIGN_IN_PREFIX,
    UNCERTAIN_PREFIX,
    EmailStatus,
    may_have_gone_out,
)
from lumina_tui.services.jsonable import iso
from lumina_tui.services.worker_heartbeat import pid_alive
from lumina_tui.store import Database, utcnow
from lumina_tui.store.db import read_stamp, sqlite_stamp
from lumina_tui.store.models import Account, Email, EmailEvent
from lumina_tui.worker.provider_pool import AccountGone, AccountSeen, ProviderPool

log = logging.getLogger(__name__)

#: Emails claimed per transaction by `drain`: enough to spread the claim's cost, few enough that a
#: worker killed mid-batch leaves only a handful of untouched claims for the sweep to take back.
DRAIN_BATCH = 8
#: The most attempts one doorbell's drain makes before it hands its thread back to the queue (its
#: other doorbells, a graceful stop); every email still due has a doorbell of its own, or the sweep.
DRAIN_LIMIT = 200

INTERRUPTED_ERROR = (
    f"{INTERRUPTED_PREFIX} the worker stopped or overran its lease mid-send; "
    "checking whether the message already went out before sending again"
)


def new_worker_id() -> str:
    """`host:pid:random`: unique per worker process, and tells the sweep where to look for it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Activity:
    """What the idle check needs: sends in flight and when the worker last had something to do."""

    in_flight: int = 0
    last_busy: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.last_busy = time.monotonic()

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self.last_busy = time.monotonic()

    def touch(self) -> None:
        with self._lock:
            self.last_busy = time.monotonic()


@dataclass
class WorkerRuntime:
    settings: Settings
    db: Database
    worker_id: str
    providers: ProviderPool
    activity: Activity = field(default_factory=Activity)
    rng: random.Random = field(default_factory=random.Random)
    # Naive UTC now for every claim, finish, back-off and sweep; a test hands in its own.
    clock: Callable[[], datetime] = utcnow
    # Set when the worker is asked to stop: a drain ends after its current batch.
    stopping: threading.Event = field(default_factory=threading.Event)

    def lease_token(self) -> str:
        """The owner of one claim: this worker plus a token, so only this attempt may finish it."""
        return f"{self.worker_id}#{uuid.uuid4().hex[:12]}"

    def owner_alive(self, lease_owner: str | None) -> bool:
        """Could the worker that owns this lease still finish it?"""
        if not lease_owner:
            return False
        worker_id = lease_owner.split("#", 1)[0]
        if worker_id == self.worker_id:
            return True
        host, _, rest = worker_id.partition(":")
        pid_text = rest.split(":", 1)[0]
        if host != socket.gethostname():
            return True  # another machine: only its lease expiry tells
        try:
            pid = int(pid_text)
        except ValueError:
            return False
        # Our own pid under another worker id is an earlier life of this pid (a restarted container).
        return pid != os.getpid() and pid_alive(pid)


# -- the backoff policy ----------------------------------------------------------------------------


def backoff_seconds(attempts: int, settings: Settings, rng: random.Random | None = None) -> float:
    """base * 2^(attempts-1), +-20% jitter so retries of many emails spread out, capped."""
    rng = rng or random.Random()
    worker = settings.worker
    exponent = min(max(0, attempts - 1), 40)
    raw = worker.backoff_base_seconds * (2.0**exponent)
    return max(0.0, min(worker.backoff_cap_seconds, raw * rng.uniform(0.8, 1.2)))


def _delivery_started(session: Session, email: Email) -> datetime:
    """The age of an email counts from its creation, or from the rep's last manual retry."""
    retried = session.execute(
        select(func.max(EmailEvent.occurred_at)).where(
            EmailEvent.email_id == email.id,
            EmailEvent.event_type == "retried",
        )
    ).scalar_one_or_none()
    return max(email.created_at, retried) if retried else email.created_at


# -- send_email ------------------------------------------------------------------------------------


def _due(email: Email) -> datetime:
    return max(email.send_after, email.next_attempt_at or email.send_after)


def claim(ctx: WorkerRuntime, email_id: str) -> tuple[Email | None, Email | None]:
    """(claimed row, or None and the row as it is): the conditional UPDATE that starts an attempt."""
    now = ctx.clock()
    token = ctx.lease_token()
    with ctx.db.write() as session:
        parked = _over_mailbox_limit(ctx, session, email_id, now)
        if parked is not None:
            return None, parked
        email = session.get(Email, email_id)
        if email is None:
            return None, None
        claimed = email_state.transition(
            session,
            email,
            email_state.CLAIM,
            when=[
                Email.send_after <= now,
                or_(col(Email.next_attempt_at).is_(None), col(Email.next_attempt_at) <= now),
            ],
            values={
                "attempts": Email.attempts + 1,
                "lease_owner": token,
                "lease_expires_at": now + timedelta(seconds=ctx.settings.worker.lease_seconds),
            },
            now=now,
        )
        row = session.execute(
            select(Email).where(Email.id == email_id).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if claimed:
            return row, None
        return None, row


def _over_mailbox_limit(ctx: WorkerRuntime, session: Session, email_id: str, now: datetime) -> Email | None:
    """Inside the claim's transaction: a due email whose mailbox is at its send limit is scheduled for
    when a slot frees (still PENDING_SEND, no attempt counted) and returned; None when it may go."""
    email = session.get(Email, email_id, populate_existing=True)
    if email is None or email.status != EmailStatus.PENDING_SEND or _due(email) > now:
        return None
    wait = mailbox_limits.wait_seconds(session, ctx.settings, email, now)
    if wait is None:
        return None
    note = f"{LIMIT_PREFIX} {wait.reason}; next try at {(now + timedelta(seconds=wait.seconds)):%H:%M:%S} UTC"
    if may_have_gone_out(email.last_error):  # the check before the retry must still happen
        note = f"{UNCERTAIN_PREFIX} {note}"
    session.execute(
        update(Email)
        .where(col(Email.id) == email_id, col(Email.status) == EmailStatus.PENDING_SEND)
        .values(last_error=note, next_attempt_at=now + timedelta(seconds=wait.seconds), updated_at=now)
    )
    session.flush()
    return session.get(Email, email_id, populate_existing=True)


def send_email(ctx: WorkerRuntime, email_id: str) -> str:
    """The handler of the `send_email` doorbell; returns what happened (for logs and tests)."""
    ctx.activity.begin()
    try:
        return _send_email(ctx, email_id)
    finally:
        ctx.activity.end()


def _send_email(ctx: WorkerRuntime, email_id: str) -> str:
    if not _pending(ctx, email_id):
        return "not_claimable"  # sent (often by a drain), cancelled, failed, claimed or gone
    email, current = claim(ctx, email_id)
    if email is None:
        if current is not None and current.status == EmailStatus.PENDING_SEND:
            # Not due yet (undo window, backoff): ring again when it is.
            delay = max(0.0, (_due(current) - ctx.clock()).total_seconds())
            queue.enqueue_send(ctx.settings, email_id, delay_seconds=delay)
            return "not_due"
        return "not_claimable"
    return _attempt(ctx, email)


def _pending(ctx: WorkerRuntime, email_id: str) -> bool:
    """Is the row still PENDING_SEND? A plain read, so a doorbell whose email a drain already sent
    costs no write transaction (the claim's conditional UPDATE stays the one that decides)."""
    with ctx.db.reader.connect() as conn:
        status = conn.execute(select(Email.status).where(Email.id == email_id)).scalar_one_or_none()
    return status == EmailStatus.PENDING_SEND


def _due_now(now: datetime) -> list[Any]:
    return [
        col(Email.status) == EmailStatus.PENDING_SEND,
        col(Email.send_after) <= now,
        or_(col(Email.next_attempt_at).is_(None), col(Email.next_attempt_at) <= now),
    ]


@dataclass(frozen=True, slots=True)
class Claimed:
    """What one `claim_due` transaction did: the rows it won, and how many it parked for a limit."""

    emails: list[Email]
    parked: int
    #: Each sending account's (updated_at, status) as the claim read them: the provider lookup
    #: of the batch's sends needs no read of its own.
    accounts: dict[str, AccountSeen] = field(default_factory=dict)


def claim_due(ctx: WorkerRuntime, limit: int = DRAIN_BATCH) -> Claimed:
    """Claim up to `limit` due emails in one transaction (oldest first), under one lease token.

    The mailbox limits are read once per account from the rows and counted down in memory; an
    email over its account's limit is parked as `claim` parks it (PENDING_SEND, due when a slot
    frees) and rung again then. The claim itself is one conditional UPDATE (`claim_all`): a row
    another worker took meanwhile is simply not among those read back.
    """
    now = ctx.clock()
    if ctx.db.is_sqlite:
        fast = _claim_due_sqlite(ctx, limit, now)
        if fast is not None:
            return fast
    with ctx.db.reader.connect() as conn:  # an idle worker's drain ends on this plain read
        if conn.execute(select(Email.id).where(*_due_now(now)).limit(1)).first() is None:
            return Claimed([], 0)
    token = ctx.lease_token()
    parked: list[Email] = []
    with ctx.db.write() as session:
        candidates = session.execute(
            select(Email.id, Email.account_id, Email.provider)
            .where(*_due_now(now))
            .order_by(col(Email.send_after))
            .limit(limit)
        ).all()
        rooms: dict[tuple[str, str], int | None] = {}
        seen: dict[str, AccountSeen] = {}
        allowed: list[str] = []
        over: list[str] = []
        for email_id, account_id, provider in candidates:
            if not account_id:
                allowed.append(email_id)  # no account: the attempt fails it, with the reason
                continue
            key = (account_id, provider)
            if key not in rooms:
                account = session.get(Account, account_id)
                if account is not None:
                    seen[account_id] = (account.updated_at, account.status)
                rooms[key] = mailbox_limits.room(session, ctx.settings, provider, account, now)
            left = rooms[key]
            if left is None:
                allowed.append(email_id)
            elif left > 0:
                rooms[key] = left - 1
                allowed.append(email_id)
            else:
                over.append(email_id)
        email_state.claim_all(
            session,
            allowed,
            now=now,
            when=_due_now(now),
            values={
                "attempts": Email.attempts + 1,
                "lease_owner": token,
                "lease_expires_at": now + timedelta(seconds=ctx.settings.worker.lease_seconds),
            },
        )
        for email_id in over:  # after the claims, so the limit counts them
            row = _over_mailbox_limit(ctx, session, email_id, now)
            if row is not None:
                parked.append(row)
        claimed = list(
            session.execute(
                select(Email)
                .where(Email.lease_owner == token)
                .order_by(col(Email.send_after))
                .execution_options(populate_existing=True)
            ).scalars()
        )
    for row in parked:
        queue.enqueue_send(ctx.settings, row.id, delay_seconds=max(0.0, (_due(row) - now).total_seconds()))
    return Claimed(claimed, len(parked), seen)


_DUE_SQLITE = "status = ? AND send_after <= ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"


def _claim_due_sqlite(ctx: WorkerRuntime, limit: int, now: datetime) -> Claimed | None:
    """`claim_due` on the sqlite3 connection (SQLite), when no account in the batch has send caps;
    None (nothing written) when one has: the ORM path counts the window and parks, as before.

    The same transaction and the same rows as the ORM path: the due emails oldest first, their
    accounts' version and status, one conditional UPDATE (`email_state.claim_all_sqlite`) whose
    RETURNING is the rows this lease won. Through the ORM this was ~40% of a worker's CPU per email
    once the message build was cheap (issue 14 point 3).
    """
    due_params = (EmailStatus.PENDING_SEND.value, sqlite_stamp(now), sqlite_stamp(now))
    with ctx.db.read_sqlite() as reader:  # an idle worker's drain ends on this plain read
        if reader.execute(f"SELECT 1 FROM emails WHERE {_DUE_SQLITE} LIMIT 1", due_params).fetchone() is None:
            return Claimed([], 0)
    with ctx.db.write_sqlite() as conn:
        candidates = conn.execute(
            f"SELECT id, account_id, provider FROM emails WHERE {_DUE_SQLITE} ORDER BY send_after LIMIT ?",
            (*due_params, limit),
        ).fetchall()
        if not candidates:
            return Claimed([], 0)
        kinds: dict[str, set[str]] = {}
        for _id, account_id, provider in candidates:
            if account_id:
                kinds.setdefault(account_id, set()).add(provider)
        seen: dict[str, AccountSeen] = {}
        if kinds:
            ids = sorted(kinds)
            marks = ", ".join("?" for _ in ids)
            for account_id, updated_at, status, settings_text in conn.execute(
                f"SELECT id, updated_at, status, settings FROM accounts WHERE id IN ({marks})", ids
            ):
                own = json.loads(settings_text) if settings_text else None
                if any(mailbox_limits.limits_of(ctx.settings, kind, own).any for kind in kinds[account_id]):
                    return None  # caps to count: the ORM path (nothing was written here)
                seen[account_id] = (read_stamp(updated_at), status)
        now_lease = now + timedelta(seconds=ctx.settings.worker.lease_seconds)
        order = {row[0]: index for index, row in enumerate(candidates)}
        claimed = email_state.claim_all_sqlite(
            conn,
            [row[0] for row in candidates],
            now=now,
            lease_owner=ctx.lease_token(),
            lease_expires_at=now_lease,
            when=(_DUE_SQLITE.replace("status = ? AND ", ""), due_params[1:]),
        )
    claimed.sort(key=lambda email: order[email.id])
    return Claimed(claimed, 0, seen)


def drain(ctx: WorkerRuntime, *, limit: int = DRAIN_LIMIT, batch: int = DRAIN_BATCH) -> int:
    """Send due emails until none is left (or `limit` attempts, or the worker is stopping).

    What a doorbell's handler does after its own email: a burst of sends then costs a claim
    transaction per `batch`, one open connection per account and thread, and one finish
    transaction per email, committed right after the provider accepted it (never batched: that
    commit closes the window in which a crash could send a message twice). Returns the attempts.
    """
    done = 0
    ctx.activity.begin()
    try:
        while done < limit and not ctx.stopping.is_set():
            claimed = claim_due(ctx, min(batch, limit - done))
            if not claimed.emails and not claimed.parked:
                break
            for index, email in enumerate(claimed.emails):
                if _lease_running_out(ctx, email):
                    # Slow sends ate the batch's lease: the sweep may take these rows back and
                    # ring them while we still hold them in memory, and sending them now could send
                    # one twice. Hand them back unattempted; the next claim leases them afresh.
                    _hand_back(ctx, claimed.emails[index:])
                    break
                try:
                    _attempt(ctx, email, seen=claimed.accounts.get(email.account_id or ""))
                except BaseException:
                    _hand_back(ctx, claimed.emails[index + 1 :])
                    raise
                done += 1
    finally:
        ctx.activity.end()
    return done


def _lease_running_out(ctx: WorkerRuntime, email: Email) -> bool:
    """Has less than half of this claim's lease time left? (The batch's later claims wait for the
    sends before them; a send may take up to its provider's timeout.)"""
    expires = email.lease_expires_at
    if expires is None:
        return False
    return ctx.clock() >= expires - timedelta(seconds=ctx.settings.worker.lease_seconds / 2)


def _hand_back(ctx: WorkerRuntime, emails: list[Email]) -> None:
    """After an error mid-batch: the batch's claims not yet attempted go back, due now, each with
    its `deferred` event (nothing was sent for them), rather than waiting for their lease to expire."""
    now = ctx.clock()
    for email in emails:
        try:
            _defer(
                ctx,
                email,
                last_error=email.last_error or "handed back unattempted after a worker error",
                next_attempt_at=now,
                uncertain=may_have_gone_out(email.last_error),
                data={"result": "transient_failure", "reason": "handed back unattempted after an "
                      "error earlier in the worker's batch", "code": None},
                now=now,
            )
        except Exception:
            log.exception("could not hand back email %s; its lease expiry will", email.id)


def _attempt(ctx: WorkerRuntime, email: Email, *, seen: AccountSeen | None = None) -> str:
    """One claimed email: ask first when it may already have gone out, send, then finish or back off.

    `seen`: the account row's version and status as the claim read them (see `ProviderPool.get`).
    """
    uncertain = email.attempts > 1 and may_have_gone_out(email.last_error)
    checked = False  # did the provider answer whether it already had the message?
    try:
        provider = ctx.providers.get(email.account_id, seen=seen)
        # A provider says whether it carries SMTPUTF8; else the registry's answer for its kind.
        smtputf8 = getattr(provider, "smtputf8", email.provider in SMTPUTF8_PROVIDERS) is True
        message: EmailMessage | None = None
        found = None
        if uncertain:
            message = _message(email, smtputf8=smtputf8)
            found = provider.find_sent(email_id=email.id, message_id=email.message_id, message=message)
            checked = True
        receipt = found
        if receipt is None:
            # SMTP takes the bytes it transmits, built once without an EmailMessage (`build_wire`).
            send_wire = getattr(provider, "send_wire", None)
            if send_wire is not None:
                receipt = send_wire(_wire(email, smtputf8=smtputf8), email_id=email.id)
            else:
                receipt = provider.send(message or _message(email, smtputf8=smtputf8), email_id=email.id)
    except SignInRequired as exc:
        ctx.providers.discard(email.account_id)
        return _wait_for_sign_in(ctx, email, exc.reason, uncertain=uncertain and not checked)
    except AuthError as exc:
        ctx.providers.discard(email.account_id)
        return _fail(ctx, email, f"the account's login was refused: {exc.reason}", code=exc.code, kind="auth")
    except PermanentProviderError as exc:
        return _fail(ctx, email, exc.reason, code=exc.code, kind="permanent")
    except TransientProviderError as exc:
        ctx.providers.discard(email.account_id)
        return _back_off(
            ctx,
            email,
            exc.reason,
            code=exc.code,
            uncertain=exc.uncertain or (uncertain and not checked),
            retry_after=exc.retry_after,
        )
    except AccountGone as exc:
        return _fail(ctx, email, str(exc), code=None, kind="permanent")
    except ValueError as exc:
        # build_message refused the stored content; it is immutable, so retrying cannot help.
        return _fail(ctx, email, f"the message could not be built: {exc}", code=None, kind="permanent")
    except Exception as exc:
        log.exception("unexpected error sending email %s", email.id)
        ctx.providers.discard(email.account_id)
        return _back_off(
            ctx, email, f"internal error: {exc.__class__.__name__}: {exc}", code=None, uncertain=True
        )
    if found is not None:
        log.info("email %s was already delivered before the interruption", email.id)
    # Outside the try: once the provider accepted the message, no error may lead to a resend.
    return _finish(ctx, email, receipt, recovered=found is not None)


def _parts(email: Email) -> dict[str, Any]:
    """What the message is built from: the email row's snapshot, the same for both builders."""
    return dict(
        from_email=email.from_email,
        from_name=email.from_name,
        to_email=email.to_email,
        to_name=email.to_name,
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        message_id=email.message_id,
        email_id=email.id,
        date=email.send_after,
        cc=email.cc,
        bcc=email.bcc,
    )


def _message(email: Email, *, smtputf8: bool = False) -> EmailMessage:
    return build_message(smtputf8=smtputf8, **_parts(email))


def _wire(email: Email, *, smtputf8: bool = False) -> WireMessage:
    return build_wire(smtputf8=smtputf8, **_parts(email))


def _mine(email: Email) -> list[Any]:
    """The guard of a claimed row's moves: only the attempt that holds the lease may make them."""
    return [Email.lease_owner == email.lease_owner]


def _finish(ctx: WorkerRuntime, email: Email, receipt: SendReceipt, *, recovered: bool) -> str:
    """SENT and its `sent` event, committed right after the provider's acceptance (one per email:
    the commit closes the window in which a crash would send the message twice)."""
    now = ctx.clock()
    values = {
        "sent_at": now,
        "provider_message_id": receipt.provider_message_id or email.message_id,
        "provider_thread_id": receipt.thread_id,
        "sent_message_id": receipt.sent_message_id or email.message_id,
        "last_error": None,
        **email_state.RELEASED,
    }
    data = {
        "attempt": email.attempts,
        "result": "sent",
        "provider": email.provider,
        "attempts": email.attempts,
        "detail": receipt.detail,
        "provider_message_id": receipt.provider_message_id,
        "provider_thread_id": receipt.thread_id,
        "sent_message_id": receipt.sent_message_id or email.message_id,
        "recovered": recovered,
    }
    event_id = f"{email.id}:sent"
    if ctx.db.is_sqlite:
        with ctx.db.write_sqlite() as conn:
            moved = email_state.transition_sqlite(
                conn,
                email,
                email_state.FINISH,
                # Mine, or our lease ran out mid-send and the sweep took the row back: it did go out.
                when=("lease_owner = ? OR status = ?", (email.lease_owner, EmailStatus.PENDING_SEND.value)),
                values=values,
                provider_event_id=event_id,
                data=data,
                now=now,
            )
    else:
        with ctx.db.write() as session:
            moved = email_state.transition(
                session,
                email,
                email_state.FINISH,
                when=[
                    or_(
                        col(Email.lease_owner) == email.lease_owner,
                        # Our lease ran out mid-send and the sweep took the row back: it did go out.
                        col(Email.status) == EmailStatus.PENDING_SEND,
                    ),
                ],
                values=values,
                provider_event_id=event_id,
                data=data,
                now=now,
            )
    if not moved:
        log.warning("email %s was delivered but its row had moved on; not marking it SENT", email.id)
        return "sent_unrecorded"
    return "sent"


def _fail(ctx: WorkerRuntime, email: Email, reason: str, *, code: int | str | None, kind: str) -> str:
    reason = scrub(reason)  # stored in the row and the append-only event: never a secret
    now = ctx.clock()
    with ctx.db.write() as session:
        moved = email_state.transition(
            session,
            email,
            email_state.FAIL,
            when=_mine(email),
            values={"last_error": reason, **email_state.RELEASED},
            provider_event_id=f"{email.id}:failed:{email.lease_owner}",
            data={
                "attempt": email.attempts,
                "result": "permanent_failure",
                "reason": reason,
                "code": code,
                "kind": kind,
                "attempts": email.attempts,
            },
            now=now,
        )
        if not moved:
            return "lost_lease"
    log.info("email %s FAILED (%s): %s", email.id, kind, reason)
    return "failed"


def _defer(
    ctx: WorkerRuntime,
    email: Email,
    *,
    last_error: str,
    next_attempt_at: datetime,
    uncertain: bool,
    data: dict[str, Any],
    now: datetime,
) -> bool:
    """Hand a claimed email back (PENDING_SEND, due at `next_attempt_at`) with its `deferred` event.

    One attempt leaves one event: the event id names the lease the attempt ran under. False when the
    lease was lost meanwhile (another worker took the row back), and nothing was written.
    """
    with ctx.db.write() as session:
        return email_state.transition(
            session,
            email,
            email_state.DEFER,
            when=_mine(email),
            values={
                "last_error": last_error,
                "next_attempt_at": next_attempt_at,
                "lease_owner": None,
                "lease_expires_at": None,
            },
            provider_event_id=f"{email.id}:deferred:{email.lease_owner}",
            data={
                "attempt": email.attempts,
                **data,
                "next_attempt_at": iso(next_attempt_at),
                "may_have_gone_out": uncertain,
            },
            now=now,
        )


def _wait_for_sign_in(ctx: WorkerRuntime, email: Email, reason: str, *, uncertain: bool) -> str:
    """The account needs the rep to sign in again: mark it, and park the email (still PENDING_SEND).

    The email is due again after `sign_in_recheck_seconds` (in case the rep signed in from another
    machine); signing in rings it at once. Waiting for the rep never counts against the 24 h limit.
    """
    reason = scrub(reason)  # stored as last_error and on the account: never a secret
    now = ctx.clock()
    accounts.mark_needs_sign_in(ctx.db, email.account_id, reason)
    text = f"{SIGN_IN_PREFIX} {reason}"
    if uncertain:  # keep what the next attempt must know: the message may already have gone out
        text = f"{UNCERTAIN_PREFIX} {text}"
    delay = ctx.settings.worker.sign_in_recheck_seconds
    next_attempt_at = now + timedelta(seconds=delay)
    data = {"result": "needs_sign_in", "reason": reason}
    if not _defer(ctx, email, last_error=text, next_attempt_at=next_attempt_at, uncertain=uncertain,
                  data=data, now=now):
        return "lost_lease"
    log.info("email %s waits for the rep to sign in again: %s", email.id, reason)
    return "needs_sign_in"


def _back_off(
    ctx: WorkerRuntime,
    email: Email,
    reason: str,
    *,
    code: int | str | None,
    uncertain: bool = False,
    retry_after: float | None = None,
) -> str:
    reason = scrub(reason)  # stored as last_error: never a secret
    now = ctx.clock()
    with ctx.db.read() as session:
        started = _delivery_started(session, email)
    age = (now - started).total_seconds()
    if age >= ctx.settings.worker.max_age_seconds:
        hours = ctx.settings.worker.max_age_seconds / 3600
        return _fail(
            ctx,
            email,
            f"gave up after {email.attempts} attempts over {hours:g} h; last error: {reason}",
            code=code,
            kind="expired",
        )
    delay = backoff_seconds(email.attempts, ctx.settings, ctx.rng)
    if retry_after is not None:
        delay = max(delay, retry_after)  # the provider said when (Retry-After, a quota's reset)
    next_attempt_at = now + timedelta(seconds=delay)
    last_error = f"{UNCERTAIN_PREFIX} {reason}" if uncertain else reason
    data = {"result": "transient_failure", "reason": reason, "code": code}
    if not _defer(ctx, email, last_error=last_error, next_attempt_at=next_attempt_at,
                  uncertain=uncertain, data=data, now=now):
        return "lost_lease"
    log.info("email %s: %s; next attempt in %.1f s", email.id, reason, delay)
    queue.enqueue_send(ctx.settings, email.id, delay_seconds=delay)
    return "retry_scheduled"


# -- the sweep -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepReport:
    reclaimed: int
    enqueued: int


def sweep(ctx: WorkerRuntime, *, grace_seconds: float | None = None) -> SweepReport:
    """Take back the rows of dead or overdue claims, and ring again for due rows that were lost.

    Taken-back rows are rung at once (their job died with the worker). Other PENDING_SEND rows are
    rung only when due for longer than `grace_seconds` (default: one sweep interval): a queued
    doorbell survives a worker's death, so a row merely waiting behind others in a busy queue
    should not get a second doorbell on every restart and every sweep.
    """
    now = ctx.clock()
    reclaimed_ids: list[str] = []
    with ctx.db.write() as session:
        claimed = session.execute(
            select(Email).where(Email.status == EmailStatus.SENDING)
        ).scalars()
        for email in list(claimed):
            expires = email.lease_expires_at
            if not (expires is None or expires <= now or not ctx.owner_alive(email.lease_owner)):
                continue
            # One row at a time (reclaims are rare): each interrupted attempt gets its own event.
            moved = email_state.transition(
                session,
                email,
                email_state.INTERRUPT,
                when=[Email.lease_owner == email.lease_owner],
                values={"last_error": INTERRUPTED_ERROR, **email_state.RELEASED},
                provider_event_id=f"{email.id}:interrupted:{email.lease_owner}",
                data={
                    "attempt": email.attempts,
                    "result": "interrupted",
                    # Which worker's sweep took it back: in team mode, the periodic lease's holder.
                    "taken_back_by": ctx.worker_id,
                    "reason": "the worker stopped or overran its lease mid-send; whether the provider "
                    "accepted the message is unknown",
                },
                now=now,
            )
            if moved:
                reclaimed_ids.append(email.id)
    grace = ctx.settings.worker.sweep_interval_seconds if grace_seconds is None else grace_seconds
    cutoff = now - timedelta(seconds=grace)
    with ctx.db.read() as session:
        due = session.execute(
            select(Email.id)
            .where(
                Email.status == EmailStatus.PENDING_SEND,
                Email.send_after <= cutoff,
                or_(col(Email.next_attempt_at).is_(None), col(Email.next_attempt_at) <= cutoff),
            )
            .order_by(col(Email.send_after))
        ).scalars()
        to_ring = list(dict.fromkeys([*reclaimed_ids, *due]))
    for email_id in to_ring:
        queue.enqueue_send(ctx.settings, email_id)
    if reclaimed_ids or to_ring:
        log.info(
            "sweep: %d interrupted sends taken back, %d doorbells rung", len(reclaimed_ids), len(to_ring)
        )
    return SweepReport(reclaimed=len(reclaimed_ids), enqueued=len(to_ring))
