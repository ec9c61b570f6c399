"""Mailbox sync: read each account's mailbox since its cursor; replies and bounces become events.

The worker runs `sync_all` every `worker.mailbox_sync_interval_seconds` (60 s by default) on a
thread of its own, so a slow mailbox never delays a send; `lumina emails sync` and the outbox's
sync key run it on demand. Per batch of messages, one write transaction records their events (and a
hard bounce's BOUNCED status and suppression) and moves the cursor: a crash re-reads one batch at
worst, and re-reading records nothing twice (events are keyed by the provider's message id).

Two syncs of one account at once (the worker's and the rep's) are harmless for the same reason; in
one process they take turns. A failing mailbox (server down, password changed) is reported and
kept on its cursor row as `last_error`, scrubbed of secrets; the other accounts sync on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from lumina_tui.config import Settings
from lumina_tui.logs import scrub
from lumina_tui.providers.base import AuthError, ProviderError, SignInRequired
from lumina_tui.providers.inbox import InboxReader
from lumina_tui.services import inbound_mail
from lumina_tui.services.accounts import NEEDS_SIGN_IN, imap_inbox_for, mark_needs_sign_in
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError
from lumina_tui.services.jsonable import iso
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.models import Account, MailboxCursor
from lumina_tui.store.upsert import insert

log = logging.getLogger(__name__)

# Opens the inbox reader of an account, or returns None when it has no mailbox to read.
InboxOpener = Callable[[Account], InboxReader | None]

_account_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class NoMailbox(Exception):
    """The account has no mailbox Lumina can read (a local outbox, SMTP without IMAP)."""


@dataclass(slots=True)
class AccountSync:
    """What one sync of one account found; `duplicates` were already recorded by an earlier run."""

    account_id: str
    account_name: str
    source: str = ""
    read: int = 0
    replied: int = 0
    bounced: int = 0
    hard_bounced: int = 0  # emails moved to BOUNCED (their address suppressed)
    duplicates: int = 0
    full_resync: bool = False
    error: str | None = None
    error_kind: str | None = None  # auth | transient
    skipped: str | None = None
    outcomes: list[inbound_mail.Outcome] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "account": self.account_name,
            "source": self.source,
            "read": self.read,
            "replied": self.replied,
            "bounced": self.bounced,
            "hard_bounced": self.hard_bounced,
            "duplicates": self.duplicates,
            "full_resync": self.full_resync,
            "error": self.error,
            "error_kind": self.error_kind,
            "skipped": self.skipped,
        }


def has_mailbox(account: Account) -> bool:
    """Can Lumina read this account's mailbox? (SMTP needs IMAP settings; a Maildir is send-only.)"""
    if account.provider == "smtp":
        return bool((account.settings or {}).get("imap"))
    return account.provider in OAUTH_MAILBOXES


# Providers whose own API client reads the mailbox: history.list (Gmail), delta (Graph).
OAUTH_MAILBOXES = ("gmail", "outlook")


def open_inbox(db: Database, settings: Settings, account: Account) -> InboxReader | None:
    """The reader of the account's mailbox, or None when it has none (see `has_mailbox`).

    Gmail and Outlook read through the sending provider's own API caller (token refresh, one retry
    on 401, errors sorted by kind), so signing in and its failures live in one place.
    """
    if account.provider in OAUTH_MAILBOXES:
        from lumina_tui.services.accounts import open_provider_for

        provider: Any = open_provider_for(db, settings, account.id)
        if account.provider == "gmail":
            from lumina_tui.providers.gmail_inbox import GmailInbox

            return GmailInbox(provider._execute, close=provider.close)
        from lumina_tui.providers.outlook_inbox import OutlookInbox

        return OutlookInbox(provider._call, close=provider.close)
    if account.provider == "smtp" and (account.settings or {}).get("imap"):
        return imap_inbox_for(account)
    return None


def _lock_for(account_id: str) -> threading.Lock:
    with _locks_guard:
        lock = _account_locks.get(account_id)
        if lock is None:
            lock = _account_locks[account_id] = threading.Lock()
        return lock


def _cursor(db: Database, account: Account, source: str) -> dict[str, Any]:
    with db.read() as session:
        row = session.execute(
            select(MailboxCursor).where(
                MailboxCursor.account_id == account.id,
                MailboxCursor.source == source,
            )
        ).scalar_one_or_none()
    return dict(row.cursor or {}) if row is not None else {}


def _save_cursor(
    session: Any, account: Account, source: str, *, cursor: dict[str, Any] | None, error: str | None
) -> None:
    """Upsert the account's cursor row: a new cursor clears the error; an error keeps the cursor."""
    now = utcnow()
    values: dict[str, Any] = {"updated_at": now, "last_error": error}
    if cursor is not None:
        values.update(cursor=cursor, last_synced_at=now)
    session.execute(
        insert(session, MailboxCursor)
        .values(
            id=new_id(),
            workspace_id=account.workspace_id,
            account_id=account.id,
            source=source,
            cursor=cursor or {},
            last_synced_at=now if cursor is not None else None,
            last_error=error,
            updated_at=now,
        )
        .on_conflict_do_update(index_elements=["account_id", "source"], set_=values)
    )


def sync_account(
    db: Database, settings: Settings, account: Account, *, opener: InboxOpener | None = None
) -> AccountSync:
    """Read the account's mailbox since its cursor and record what it says; never raises for the
    mailbox's own failures (they come back in `error`)."""
    report = AccountSync(account_id=account.id, account_name=account.name)
    open_reader = opener or (lambda row: open_inbox(db, settings, row))
    with _lock_for(account.id):
        try:
            reader = open_reader(account)
        except ProviderError as exc:
            return _failed(db, account, report, exc, source=_default_source(account))
        if reader is None:
            report.skipped = "this account has no mailbox to read (add IMAP settings to an SMTP account)"
            return report
        report.source = reader.source
        try:
            cursor = _cursor(db, account, reader.source)
            for batch in reader.read_since(cursor, since=_since(account)):
                report.full_resync = report.full_resync or batch.full_resync
                with db.write() as session:
                    for message in batch.messages:
                        report.read += 1
                        for outcome in inbound_mail.record_message(
                            session, account, message, provider=reader.provider
                        ):
                            _count(report, outcome)
                    _save_cursor(session, account, reader.source, cursor=batch.cursor, error=None)
            with db.write() as session:
                report.hard_bounced += inbound_mail.settle_hard_bounces(session, account)
        except ProviderError as exc:
            return _failed(db, account, report, exc, source=reader.source)
        finally:
            reader.close()
    if report.read or report.full_resync:
        log.info(
            "mailbox sync %s (%s): read %d, replied %d, bounced %d (hard %d), already recorded %d%s",
            account.id,
            report.source,
            report.read,
            report.replied,
            report.bounced,
            report.hard_bounced,
            report.duplicates,
            "; full resync" if report.full_resync else "",
        )
    return report


def _default_source(account: Account) -> str:
    if account.provider == "smtp":
        return f"imap:{((account.settings or {}).get('imap') or {}).get('folder') or 'INBOX'}"
    return account.provider


def _since(account: Account) -> datetime:
    """Where a first sync (or a resync) starts: nothing older than the account can be ours."""
    return account.created_at


def _count(report: AccountSync, outcome: inbound_mail.Outcome) -> None:
    report.outcomes.append(outcome)
    if outcome.event_type == "ignored":
        return
    if not outcome.recorded:
        report.duplicates += 1
        return
    if outcome.event_type == "replied":
        report.replied += 1
    elif outcome.event_type == "bounced":
        report.bounced += 1
    if outcome.moved_to_bounced:
        report.hard_bounced += 1


def _failed(
    db: Database, account: Account, report: AccountSync, exc: ProviderError, *, source: str
) -> AccountSync:
    message = scrub(exc.reason)
    report.source = report.source or source
    report.error = message
    report.error_kind = "auth" if isinstance(exc, AuthError) else "transient"
    log.warning("mailbox sync %s (%s) failed: %s", account.id, report.source, message)
    if isinstance(exc, SignInRequired):
        # The same state a refused send leaves: the outbox and composer say "sign in again".
        mark_needs_sign_in(db, account.id, message)
    try:
        with db.write() as session:
            _save_cursor(session, account, report.source, cursor=None, error=message)
    except Exception:  # the report still says what failed
        log.warning("could not record the sync error of account %s", account.id, exc_info=True)
    return report


def sync_account_by_id(db: Database, settings: Settings, account_id: str) -> AccountSync | None:
    """The worker's "sync this account now"; None when the account is gone or has no mailbox."""
    with db.read() as session:
        account = session.get(Account, account_id)
    if account is None or not has_mailbox(account):
        return None
    return sync_account(db, settings, account)


def syncable_accounts(db: Database, workspace_id: str | None = None) -> list[Account]:
    """Accounts with a mailbox, in one workspace or (the worker) in all of them."""
    with db.read() as session:
        query = select(Account).order_by(col(Account.created_at))
        if workspace_id is not None:
            query = query.where(Account.workspace_id == workspace_id)
        rows = list(session.execute(query).scalars().all())
    # An account waiting for the rep to sign in again cannot be read; it syncs once they have.
    return [row for row in rows if has_mailbox(row) and row.status != NEEDS_SIGN_IN]


def sync_all(
    db: Database,
    settings: Settings,
    actor: Actor | None = None,
    *,
    account_ref: str | None = None,
    opener: InboxOpener | None = None,
) -> list[AccountSync]:
    """Sync every account with a mailbox (the actor's, or every workspace's for the worker), or the
    one `account_ref` names."""
    if account_ref is not None:
        if actor is None:
            raise ValueError("naming an account needs the acting user")
        from lumina_tui.services.accounts import resolve_account

        account = resolve_account(db, actor, account_ref)
        if not has_mailbox(account) and opener is None:
            return [
                AccountSync(
                    account_id=account.id,
                    account_name=account.name,
                    skipped="this account has no mailbox to read (add IMAP settings to an SMTP account)",
                )
            ]
        return [sync_account(db, settings, account, opener=opener)]
    accounts = syncable_accounts(db, actor.workspace_id if actor is not None else None)
    return [sync_account(db, settings, account, opener=opener) for account in accounts]


def summary(reports: list[AccountSync]) -> tuple[str, str | None]:
    """(one line saying what a sync found, the failures or None), for the outbox."""
    if not reports:
        return "No account has a mailbox to read (an SMTP account needs --imap-host).", None
    replied = sum(r.replied for r in reports)
    bounced = sum(r.bounced for r in reports)
    done = f"Mailboxes read: {replied} new repl{'y' if replied == 1 else 'ies'}, {bounced} new bounce(s)."
    failures = [f"{r.account_name}: {r.error}" for r in reports if r.error]
    return done, ("; ".join(failures) or None)


def cursor_status(db: Database, actor: Actor, account_id: str) -> dict[str, Any]:
    """The account's sync state as the CLI shows it (no secret is part of it)."""
    with db.read() as session:
        account = session.get(Account, account_id)
        if account is None or account.workspace_id != actor.workspace_id:
            raise NotFoundError(f"account {account_id} not found", field="account")
        rows = session.execute(
            select(MailboxCursor).where(MailboxCursor.account_id == account_id)
        ).scalars()
        return {
            row.source: {
                "cursor": row.cursor,
                "last_synced_at": iso(row.last_synced_at),
                "last_error": row.last_error,
            }
            for row in rows
        }
