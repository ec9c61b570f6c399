"""Delivery reports in Postfix, Gmail, Exchange Online and qmail formats, and replies, read through
mailbox sync: the right email, the right kind of bounce, and nothing recorded twice.

The Postfix report was captured from the real Postfix of `mail_servers.py`; the Gmail and Exchange
ones follow what those services send (multipart/report with their own human-readable parts, the
original as message/rfc822 or text/rfc822-headers, Gmail's replaced Message-ID, Exchange's
lower-case internet message header); qmail's is the classic non-RFC 3464 kind. Each names the
email it returns with the @@EMAIL_ID@@ / @@MESSAGE_ID@@ placeholders, filled in per test.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from mailbox_support import event_count, events_of, reply_to, send_to, status_of, suppression_for

from lumina_tui.config import Settings
from lumina_tui.providers.imap_inbox import message_key
from lumina_tui.providers.inbox import InboundMessage, InboxBatch
from lumina_tui.services import accounts, mailbox_sync
from lumina_tui.services import outbox as outbox_service
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool

DATA = Path(__file__).parent / "data"


class FixtureInbox:
    """An inbox reader that yields the given messages (the real readers are tested on real servers)."""

    source = "fixture"
    provider = "imap"

    def __init__(self, raws: list[bytes]) -> None:
        self.raws = raws

    def read_since(self, cursor: dict[str, Any], *, since: datetime | None) -> Iterator[InboxBatch]:
        messages = [InboundMessage(key=message_key(raw), raw=raw) for raw in self.raws]
        yield InboxBatch(messages=messages, cursor={"read": len(messages)})

    def close(self) -> None:
        pass


@pytest.fixture
def outbox(db: Database, actor: Actor) -> Account:
    return accounts.add_account(db, actor, provider="maildir", email="sam@acme.test", make_default=True)


@pytest.fixture
def mail_servers_free_imap_account(db: Database, actor: Actor) -> Account:
    """An SMTP account with IMAP settings (nothing listens there: these tests never connect)."""
    return accounts.add_account(
        db,
        actor,
        provider="smtp",
        email="sam@acme.test",
        name="with imap",
        settings={
            "host": "127.0.0.1",
            "port": 2525,
            "security": "plain",
            "imap": {"host": "127.0.0.1", "port": 1143, "security": "plain"},
        },
        imap_secret="imap-pw-unused",
    )


@pytest.fixture
def deliver(db: Database, actor: Actor, settings: Settings, outbox: Account):
    """Send an email and let an in-process worker deliver it (to the local outbox): it is SENT."""
    ctx = tasks.WorkerRuntime(
        settings=settings,
        db=db,
        worker_id=tasks.new_worker_id(),
        providers=ProviderPool(db, settings),
        rng=random.Random(3),
    )

    def deliver_to(address: str) -> Email:
        email = send_to(db, actor, settings, address)
        assert tasks.send_email(ctx, email.id) == "sent"
        return outbox_service.get_email(db, actor, email.id)

    yield deliver_to
    ctx.providers.close_all()


def fixture(name: str, email: Email) -> bytes:
    text = (DATA / name).read_text(encoding="utf-8")
    text = text.replace("@@EMAIL_ID@@", email.id).replace("@@MESSAGE_ID@@", email.message_id)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def sync(db: Database, settings: Settings, actor: Actor, account: Account, raws: list[bytes]):
    (report,) = mailbox_sync.sync_all(
        db, settings, actor, account_ref=account.id, opener=lambda _row: FixtureInbox(raws)
    )
    assert report.error is None
    return report


@pytest.mark.parametrize(
    ("name", "recipient", "kind", "status"),
    [
        ("postfix_unknown_user.eml", "ana.okafor@lumina.test", "hard", "5.1.1"),
        ("gmail_address_not_found.eml", "ana.okafor@brightwave.example", "hard", "5.1.1"),
        ("exchange_online_recipient_not_found.eml", "dana.ruiz@northpeak.example", "hard", "5.1.10"),
        ("qmail_non_dsn.eml", "li.wei@oldhost.example", "hard", ""),
        ("gmail_delayed.eml", "ben.hale@slowmail.example", "soft", "4.4.1"),
    ],
)
def test_each_report_format_finds_the_right_email_and_bounce_kind(
    db: Database,
    actor: Actor,
    settings: Settings,
    outbox: Account,
    deliver: Any,
    name: str,
    recipient: str,
    kind: str,
    status: str,
) -> None:
    earlier = deliver(recipient)  # same address, another email: the report names which one came back
    returned = deliver(recipient)
    raw = fixture(name, returned)

    report = sync(db, settings, actor, outbox, [raw])

    assert (report.bounced, report.hard_bounced, report.replied) == (1, int(kind == "hard"), 0)
    (event,) = events_of(db, returned.id, "bounced")
    assert event.event_data["kind"] == kind
    assert event.event_data["recipient"] == recipient
    assert event.event_data["status"] == status
    assert event.event_data["matched_by"] == "original-headers"
    assert events_of(db, earlier.id, "bounced") == []
    assert status_of(db, earlier.id) == EmailStatus.SENT
    if kind == "hard":
        assert status_of(db, returned.id) == EmailStatus.BOUNCED
        assert suppression_for(db, recipient) is not None
    else:
        assert status_of(db, returned.id) == EmailStatus.SENT
        assert suppression_for(db, recipient) is None
    assert events_of(db, returned.id, "replied") == []  # Gmail's report has In-Reply-To: still a bounce

    recorded = event_count(db)
    again = sync(db, settings, actor, outbox, [raw])
    assert (again.bounced, again.duplicates) == (0, 1)
    assert event_count(db) == recorded


def test_a_report_without_the_original_falls_back_to_the_newest_email_to_that_address(
    db: Database, actor: Actor, settings: Settings, outbox: Account, deliver: Any
) -> None:
    email = deliver("ana.okafor@lumina.test")
    raw = fixture("postfix_unknown_user.eml", email)
    stripped = raw.split(b"Content-Description: Undelivered Message")[0] + b"--\r\n"
    stripped = stripped.replace(email.id.encode(), b"").replace(email.message_id.encode(), b"")

    sync(db, settings, actor, outbox, [stripped])

    (event,) = events_of(db, email.id, "bounced")
    assert event.event_data["matched_by"] == "recipient"
    assert status_of(db, email.id) == EmailStatus.BOUNCED


def test_replies_match_by_headers_or_quoted_id_and_keep_only_the_prospects_words(
    db: Database, actor: Actor, settings: Settings, outbox: Account, deliver: Any
) -> None:
    first, second, third = (deliver(f"{n}@brightwave.example") for n in ("ana", "ben", "cy"))
    by_header = reply_to(
        first,
        "Sorry, unknown user? I think you mean my colleague. Happy to talk though.\n\n"
        f"On Tue, 1 Dec 2026 at 09:00, Sam <{first.from_email}> wrote:\n> Hi Ana,\n> a question\n",
    )
    in_references_only = reply_to(second, "Not now, maybe in Q3.\n\n-----Original Message-----\nFrom: Sam\n")
    in_references_only = in_references_only.replace(
        f"In-Reply-To: {second.message_id}".encode(), b"In-Reply-To: <other@brightwave.example>"
    )
    quoted = reply_to(
        third,
        "Forwarding this to our ops lead.\n\n"
        f"> Subject: {third.subject}\n> X-Lumina-Email-Id: {third.id}\n> Hi Cy,\n",
    )
    quoted = quoted.replace(f"In-Reply-To: {third.message_id}\n".encode(), b"")
    quoted = quoted.replace(f"References: {third.message_id}\n".encode(), b"")

    report = sync(db, settings, actor, outbox, [by_header, in_references_only, quoted])

    assert (report.replied, report.bounced) == (3, 0)
    snippets = {
        e.email_id: e.event_data for e in (events_of(db, x.id, "replied")[0] for x in (first, second, third))
    }
    assert snippets[first.id]["snippet"] == (
        "Sorry, unknown user? I think you mean my colleague. Happy to talk though."
    )
    assert snippets[first.id]["matched_by"] == "in-reply-to"
    assert snippets[second.id]["snippet"] == "Not now, maybe in Q3."
    assert snippets[second.id]["matched_by"] == "references"
    assert snippets[third.id]["matched_by"] == "quoted-email-id"
    assert snippets[third.id]["snippet"].startswith("Forwarding this to our ops lead.")
    # A reply that says "unknown user" is still a reply: nobody was suppressed, nothing bounced.
    assert suppression_for(db, "ana@brightwave.example") is None
    assert {status_of(db, x.id) for x in (first, second, third)} == {EmailStatus.SENT}


def test_out_of_office_and_our_own_copies_are_not_replies(
    db: Database, actor: Actor, settings: Settings, outbox: Account, deliver: Any
) -> None:
    email = deliver("ana@brightwave.example")
    out_of_office = reply_to(email, "I am out of the office until Monday.", Auto_Submitted="auto-replied")
    own_copy = reply_to(email, "Hi Ana", X_Lumina_Email_Id=email.id)

    report = sync(db, settings, actor, outbox, [out_of_office, own_copy])

    assert (report.read, report.replied, report.bounced) == (2, 0, 0)
    assert events_of(db, email.id, "replied") == []


def test_mail_from_a_prospect_or_a_stranger_that_is_about_nothing_of_ours_is_ignored(
    db: Database, actor: Actor, settings: Settings, outbox: Account, deliver: Any
) -> None:
    email = deliver("ana@brightwave.example")
    stranger = reply_to(email, "Unrelated newsletter").replace(
        f"In-Reply-To: {email.message_id}".encode(), b"In-Reply-To: <x@elsewhere.example>"
    )
    stranger = stranger.replace(
        f"References: {email.message_id}".encode(), b"References: <x@elsewhere.example>"
    )

    before = event_count(db)
    report = sync(db, settings, actor, outbox, [stranger])

    assert (report.read, report.replied, report.bounced) == (1, 0, 0)
    assert event_count(db) == before


def test_the_worker_leaves_an_account_waiting_for_sign_in_alone(
    db: Database, actor: Actor, settings: Settings, mail_servers_free_imap_account: Account
) -> None:
    from lumina_tui.services.accounts import mark_needs_sign_in

    assert [a.id for a in mailbox_sync.syncable_accounts(db)] == [mail_servers_free_imap_account.id]
    mark_needs_sign_in(db, mail_servers_free_imap_account.id, "invalid_grant")
    assert mailbox_sync.syncable_accounts(db) == []
    assert mailbox_sync.sync_all(db, settings) == []


def test_a_refused_refresh_token_during_sync_marks_the_account_needs_sign_in(
    db: Database, actor: Actor, settings: Settings, outbox: Account
) -> None:
    from lumina_tui.providers.base import SignInRequired

    class RevokedInbox(FixtureInbox):
        def read_since(self, cursor: dict[str, Any], *, since: datetime | None) -> Iterator[InboxBatch]:
            raise SignInRequired("Google refused the refresh token (invalid_grant)")

    (report,) = mailbox_sync.sync_all(
        db, settings, actor, account_ref=outbox.id, opener=lambda _row: RevokedInbox([])
    )

    assert report.error_kind == "auth" and "invalid_grant" in (report.error or "")
    stored = accounts.get_account(db, actor, outbox.id)
    assert stored.status == accounts.NEEDS_SIGN_IN and "invalid_grant" in (stored.status_reason or "")


def test_removing_an_account_removes_its_sync_cursor_and_imap_password(
    db: Database, actor: Actor, settings: Settings, mail_servers_free_imap_account: Account
) -> None:
    from lumina_tui import secrets
    from lumina_tui.services.accounts import imap_secret_ref_for

    account = mail_servers_free_imap_account
    sync(db, settings, actor, account, [])  # leaves a cursor row
    assert mailbox_sync.cursor_status(db, actor, account.id)
    assert secrets.get_secret(imap_secret_ref_for(account.id)) == "imap-pw-unused"

    accounts.remove_account(db, actor, account.id)

    with db.read() as session:
        from sqlalchemy import func, select

        from lumina_tui.store.models import MailboxCursor

        assert session.execute(select(func.count()).select_from(MailboxCursor)).scalar_one() == 0
    assert secrets.get_secret(imap_secret_ref_for(account.id)) is None


def test_a_bounce_read_before_the_worker_commits_sent_still_ends_bounced(
    db: Database, actor: Actor, settings: Settings, outbox: Account
) -> None:
    """Postfix can return the DSN before the worker's `finish` commits: the row is still SENDING."""
    from lumina_tui.providers.base import SendReceipt

    ctx = tasks.WorkerRuntime(
        settings=settings, db=db, worker_id=tasks.new_worker_id(), providers=ProviderPool(db, settings)
    )
    email = send_to(db, actor, settings, "ana.okafor@lumina.test")
    claimed, _ = tasks.claim(ctx, email.id)
    assert claimed is not None and status_of(db, email.id) == EmailStatus.SENDING
    raw = fixture("postfix_unknown_user.eml", claimed)

    early = sync(db, settings, actor, outbox, [raw])
    assert (early.bounced, early.hard_bounced) == (1, 0)  # recorded; the row could not move yet
    assert status_of(db, email.id) == EmailStatus.SENDING
    assert suppression_for(db, "ana.okafor@lumina.test") is not None

    assert (
        tasks._finish(ctx, claimed, SendReceipt(provider_message_id=email.message_id), recovered=False)
        == "sent"
    )
    later = sync(db, settings, actor, outbox, [])  # the DSN is behind the cursor now: nothing to read

    assert (later.read, later.bounced, later.hard_bounced) == (0, 0, 1)
    assert status_of(db, email.id) == EmailStatus.BOUNCED
    assert len(events_of(db, email.id, "bounced")) == 1
    again = sync(db, settings, actor, outbox, [raw])
    assert (again.bounced, again.duplicates, again.hard_bounced) == (0, 1, 0)
    assert len(events_of(db, email.id, "bounced")) == 1
    ctx.providers.close_all()


@pytest.mark.parametrize(
    ("name", "recipient", "damaged"),
    [
        ("postfix_unknown_user.eml", "ana.okafor@lumina.test", "ana.okafor@lu"),  # not an address
        ("qmail_non_dsn.eml", "li.wei@oldhost.example", "li.wei@oldt.example"),  # never mailed
    ],
)
def test_a_damaged_report_naming_another_address_suppresses_nothing(
    db: Database, actor: Actor, settings: Settings, outbox: Account, deliver: Any,
    name: str, recipient: str, damaged: str,
) -> None:
    """make fuzz found these: a cut-off address failed the whole sync, a changed one was suppressed."""
    returned = deliver(recipient)
    raw = fixture(name, returned).replace(recipient.encode(), damaged.encode())

    report = sync(db, settings, actor, outbox, [raw])  # no exception, no account error

    assert report.error is None
    assert suppression_for(db, damaged) is None and suppression_for(db, recipient) is None
