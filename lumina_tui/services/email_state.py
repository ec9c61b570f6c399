"""The email's delivery lifecycle, in one place: its states, the moves between them, and `transition`.

An email's status changes in one way only: `transition`, a conditional UPDATE and its event,
together. The WHERE names the states the move may leave (from `MOVES`, the table below), so two
racing actors cannot both win, and the event lands in the append-only log in the same transaction,
so the log never claims what the row denies nor misses what the row shows.

    move       from                      to            event        who
    queue      (a new row)               PENDING_SEND  queued       sending.send (an INSERT)
    claim      PENDING_SEND              SENDING       -            worker/tasks.claim, claim_due
                                                                    (a batch: `claim_all`)
    finish     SENDING, PENDING_SEND     SENT          sent         worker/tasks._finish
    fail       SENDING                   FAILED        failed       worker/tasks._fail
    defer      SENDING                   PENDING_SEND  deferred     worker/tasks._defer (back-off,
                                                                    wait for sign-in)
    interrupt  SENDING                   PENDING_SEND  interrupted  worker/tasks.sweep
    cancel     PENDING_SEND              CANCELLED     cancelled    outbox.cancel
    retry      FAILED                    PENDING_SEND  retried      outbox.retry
    bounce     SENT                      BOUNCED       bounced      inbound_mail (a hard bounce)

`finish` may also leave PENDING_SEND: the lease ran out mid-send and the sweep took the row back,
yet the provider did accept the message. A `claim` writes no event of its own: the attempt it
starts ends with exactly one (sent, deferred, failed or interrupted), which names the attempt.
Each caller adds its own guards (`when`: the lease is mine, the email is due, the error does not
say it may have gone out); the table says which states a move may leave at all, and
tests/sending/test_email_lifecycle.py walks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import sqlite3

    from sqlmodel import Session

    from lumina_tui.store.models import Email

# The names (EmailStatus, the sets, the table) import nothing heavy: the CLI's plain read path
# (`services/jsonable.py`) and a scripting verb use them without loading SQLAlchemy.
# `transition` imports the store and the event log when it runs.


class EmailStatus(StrEnum):
    """`emails.status`: stored as its text, so a plain string from the store compares equal."""

    PENDING_SEND = "PENDING_SEND"  # queued: in its undo window, waiting for a retry, or for a limit
    SENDING = "SENDING"  # claimed by one worker attempt (a lease)
    SENT = "SENT"  # the provider accepted it
    FAILED = "FAILED"  # given up; the rep may retry it
    CANCELLED = "CANCELLED"  # the rep undid it before it went
    BOUNCED = "BOUNCED"  # it went, and a hard bounce came back


#: An email still on its way: the worker (and the sidecar's idle check) must keep watching these,
#: and an account may not be removed while it has any.
UNFINISHED: frozenset[EmailStatus] = frozenset({EmailStatus.PENDING_SEND, EmailStatus.SENDING})
#: Emails that left: a reply may be about them, and they count against a mailbox's send limits.
DELIVERED: frozenset[EmailStatus] = frozenset({EmailStatus.SENT, EmailStatus.BOUNCED})


@dataclass(frozen=True, slots=True)
class Move:
    """One arrow of the lifecycle: the states it may leave, the state it enters, its event."""

    name: str
    sources: frozenset[EmailStatus]
    target: EmailStatus
    event_type: str | None  # None: the move writes no event of its own (a claim)


def _move(name: str, sources: Iterable[EmailStatus], target: EmailStatus, event: str | None) -> Move:
    return Move(name, frozenset(sources), target, event)


S = EmailStatus
CLAIM = _move("claim", [S.PENDING_SEND], S.SENDING, None)
FINISH = _move("finish", [S.SENDING, S.PENDING_SEND], S.SENT, "sent")
FAIL = _move("fail", [S.SENDING], S.FAILED, "failed")
DEFER = _move("defer", [S.SENDING], S.PENDING_SEND, "deferred")
INTERRUPT = _move("interrupt", [S.SENDING], S.PENDING_SEND, "interrupted")
CANCEL = _move("cancel", [S.PENDING_SEND], S.CANCELLED, "cancelled")
RETRY = _move("retry", [S.FAILED], S.PENDING_SEND, "retried")
BOUNCE = _move("bounce", [S.SENT], S.BOUNCED, "bounced")
del S

#: Every move of an existing row, by name. A new state or arrow is added here and nowhere else.
MOVES: Mapping[str, Move] = {
    m.name: m for m in (CLAIM, FINISH, FAIL, DEFER, INTERRUPT, CANCEL, RETRY, BOUNCE)
}
#: The state a new email starts in (the send transaction's INSERT, with its `queued` event).
INITIAL = EmailStatus.PENDING_SEND


def allowed_pairs() -> frozenset[tuple[EmailStatus, EmailStatus]]:
    """Every (from, to) the lifecycle allows: what `transition` lets through, whichever move."""
    return frozenset((source, m.target) for m in MOVES.values() for source in m.sources)


# -- why a PENDING_SEND email waits ----------------------------------------------------------------

# `last_error` of a row the sweep took back from a worker that died or overran its lease mid-send.
# The next attempt must first ask the provider whether the message already went out.
INTERRUPTED_PREFIX = "interrupted:"
# `last_error` after a failure that may have happened after the provider accepted the message (a
# timeout, a 5xx): like an interruption, the next attempt first asks the provider (`find_sent`).
UNCERTAIN_PREFIX = "uncertain:"
# `last_error` of an email waiting, PENDING_SEND, for its mailbox's send limit (not a failure).
LIMIT_PREFIX = "scheduled (mailbox limit):"
# `last_error` of an email waiting, PENDING_SEND, for the rep to sign in to its account again.
SIGN_IN_PREFIX = "needs sign-in:"
# What the outbox and `lumina emails list` show for an email waiting for one of those reasons.
STATUS_NOTES = {LIMIT_PREFIX: "scheduled (mailbox limit)", SIGN_IN_PREFIX: "needs sign-in"}


class Waiting(Protocol):
    """What `status_note` reads: an Email, or a row of the outbox built from one."""

    @property
    def status(self) -> str: ...

    @property
    def last_error(self) -> str | None: ...


def status_note(email: Waiting) -> str | None:
    """Why a PENDING_SEND email is waiting when it is not a failure; None otherwise."""
    if email.status != EmailStatus.PENDING_SEND or not email.last_error:
        return None
    text = email.last_error.removeprefix(UNCERTAIN_PREFIX).lstrip()
    for prefix, note in STATUS_NOTES.items():
        if text.startswith(prefix):
            return note
    return None


def may_have_gone_out(last_error: str | None) -> bool:
    """After this error, could the message already be at the provider? (Then ask before resending.)"""
    return last_error is not None and last_error.startswith((INTERRUPTED_PREFIX, UNCERTAIN_PREFIX))


#: What a row leaves behind when no worker holds it any more and nothing is scheduled.
RELEASED: dict[str, Any] = {"next_attempt_at": None, "lease_owner": None, "lease_expires_at": None}


def _move_values(values: dict[str, Any] | None) -> dict[str, Any]:
    """The columns a move sets besides its status, as both `transition` paths store them: never
    `status` (the move says that), and `last_error` scrubbed before it reaches the row."""
    from lumina_tui.logs import scrub

    values = dict(values or {})
    if "status" in values:
        raise ValueError("transition: the move sets the status; do not pass it in values")
    if isinstance(values.get("last_error"), str):
        values["last_error"] = scrub(values["last_error"])
    return values


def transition(
    session: Session,
    email: Email,
    move: Move,
    *,
    now: datetime,
    values: dict[str, Any] | None = None,
    when: Iterable[Any] = (),
    provider_event_id: str | None = None,
    data: dict[str, Any] | None = None,
    provider: str | None = None,
    occurred_at: datetime | None = None,
) -> bool:
    """Make `move` if the row is still in one of its sources and matches `when`; append its event.

    Runs inside the caller's write transaction. Returns False (and writes nothing) when the row had
    already moved on, which each caller turns into its own answer. `values` are the other columns
    the move sets (never `status`: the move says that). A provider's event (a bounce found by
    mailbox sync) names its `provider` (default: Lumina's own) and when it happened there
    (`occurred_at`).
    """
    from sqlalchemy import update
    from sqlmodel import col

    from lumina_tui.services import events
    from lumina_tui.store.db import rows_changed
    from lumina_tui.store.models import Email

    values = _move_values(values)
    if move.event_type is not None and provider_event_id is None:
        raise ValueError(f"transition: the {move.name} move records an event; name its provider_event_id")
    result = session.execute(
        update(Email)
        .where(
            col(Email.id) == email.id,
            col(Email.workspace_id) == email.workspace_id,
            col(Email.status).in_(sorted(move.sources)),
            *when,
        )
        .values(**values, status=move.target, updated_at=now)
    )
    if rows_changed(result) != 1:
        return False
    if move.event_type is not None and provider_event_id is not None:  # (checked above)
        events.append_event(
            session,
            workspace_id=email.workspace_id,
            email_id=email.id,
            event_type=move.event_type,
            provider=provider or events.LUMINA_PROVIDER,
            provider_event_id=provider_event_id,
            data=data,
            occurred_at=occurred_at or now,
        )
    return True


def transition_sqlite(
    conn: sqlite3.Connection,
    email: Email,
    move: Move,
    *,
    now: datetime,
    values: dict[str, Any] | None = None,
    when: tuple[str, tuple[Any, ...]] | None = None,
    provider_event_id: str,
    data: dict[str, Any] | None = None,
) -> bool:
    """`transition` on the sqlite3 connection of `Database.write_sqlite`, for the worker's finish.

    Profiled (issue 14 point 3): through the ORM the finish of one sent email (the conditional
    UPDATE and its event) cost ~5 ms of SQLAlchemy statement building and caching on a loaded
    machine, a third of a worker's time per email; here it is the same two statements. Same rule:
    the WHERE names the move's sources and the caller's guard (`when`: an SQL condition and its
    parameters), the event lands in the same transaction, False (nothing written) if the row moved on.
    """
    from lumina_tui.services import events
    from lumina_tui.store.db import sqlite_stamp

    values = _move_values(values)
    if move.event_type is None:
        raise ValueError("transition_sqlite: only for moves that record an event")
    values["status"] = move.target.value
    values["updated_at"] = now
    names = sorted(values)
    sources = sorted(move.sources)
    guard, guard_params = when or ("1", ())
    cursor = conn.execute(
        f"UPDATE emails SET {', '.join(f'{name} = ?' for name in names)} "
        f"WHERE id = ? AND workspace_id = ? AND status IN ({', '.join('?' for _ in sources)}) "
        f"AND ({guard})",
        (
            *(sqlite_stamp(v) if isinstance(v, datetime) else v for v in (values[n] for n in names)),
            email.id,
            email.workspace_id,
            *(source.value for source in sources),
            *guard_params,
        ),
    )
    if cursor.rowcount != 1:
        return False
    events.append_event_sqlite(
        conn,
        workspace_id=email.workspace_id,
        email_id=email.id,
        event_type=move.event_type,
        provider_event_id=provider_event_id,
        data=data,
        occurred_at=now,
    )
    return True


def claim_all_sqlite(
    conn: sqlite3.Connection,
    email_ids: Sequence[str],
    *,
    now: datetime,
    lease_owner: str,
    lease_expires_at: datetime,
    when: tuple[str, tuple[Any, ...]] = ("1", ()),
) -> list[Email]:
    """`claim_all` on the sqlite3 connection of `Database.write_sqlite`: the rows it moved, read
    back by the same statement (RETURNING), as `Email` objects.

    The worker's drain claims a batch per transaction; through the ORM (the UPDATE's statement
    building, the read-back's row loading) that was ~40% of a worker's CPU per email once the
    message build was cheap (issue 14 point 3). The same move: the claim's sources and the
    caller's guard in the WHERE, attempts + 1 and the lease set, `updated_at` now; no event.
    """
    from lumina_tui.store import sqlite_rows
    from lumina_tui.store.db import sqlite_stamp
    from lumina_tui.store.models import Email

    if not email_ids:
        return []
    sources = sorted(source.value for source in CLAIM.sources)
    guard, guard_params = when
    rows = conn.execute(
        f"UPDATE emails SET status = ?, attempts = attempts + 1, lease_owner = ?, "
        f"lease_expires_at = ?, updated_at = ? "
        f"WHERE id IN ({', '.join('?' for _ in email_ids)}) "
        f"AND status IN ({', '.join('?' for _ in sources)}) AND ({guard}) "
        f"RETURNING {sqlite_rows.columns(Email)}",
        (
            CLAIM.target.value,
            lease_owner,
            sqlite_stamp(lease_expires_at),
            sqlite_stamp(now),
            *email_ids,
            *sources,
            *guard_params,
        ),
    ).fetchall()
    # As the ORM would hand them back (detached), without `Email.__init__` (~11x dearer).
    return [sqlite_rows.detached(Email, sqlite_rows.row_values(Email, row)) for row in rows]


def claim_all(
    session: Session,
    email_ids: Iterable[str],
    *,
    now: datetime,
    values: dict[str, Any],
    when: Iterable[Any] = (),
) -> int:
    """The `claim` move for several rows in one conditional UPDATE; returns how many moved.

    Only for claims: they write no event, so one statement can move a batch (the worker's drain
    claims a few due emails per transaction). Rows that had moved on, or fail `when`, stay as they
    are; the caller reads back the rows it won (by the lease it wrote in `values`).
    """
    from sqlalchemy import update
    from sqlmodel import col

    from lumina_tui.store.db import rows_changed
    from lumina_tui.store.models import Email

    ids = list(email_ids)
    if not ids:
        return 0
    if "status" in values:
        raise ValueError("claim_all: the move sets the status; do not pass it in values")
    result = session.execute(
        update(Email)
        .where(col(Email.id).in_(ids), col(Email.status).in_(sorted(CLAIM.sources)), *when)
        .values(**values, status=CLAIM.target, updated_at=now)
    )
    return rows_changed(result)
