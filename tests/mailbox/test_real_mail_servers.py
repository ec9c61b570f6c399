"""Mailbox sync against real Debian Postfix and Dovecot on 127.0.0.1 (skipped, with the reason, where
they are missing): a real Postfix bounce ends BOUNCED and suppressed, a reply in the mailbox shows
as `replied`, and syncing again or after a UIDVALIDITY change records nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import imapclient
import pytest
from mail_servers import PROSPECT_USER, REP_ADDRESS, REP_PASSWORD, MailServers
from mailbox_support import (
    event_count,
    events_of,
    outcomes,
    reply_to,
    send_to,
    status_of,
    suppression_for,
    tag,
)
from polling import wait_until
from secret_grep import assert_grep_works, assert_no_secret
from sending_support import WorkerProcess

from lumina_tui.config import Settings
from lumina_tui.services import mailbox_sync, outbox
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.errors import SuppressedRecipientError
from lumina_tui.store import Database
from lumina_tui.store.models import Account

DOMAIN = REP_ADDRESS.split("@", 1)[1]


def append_to_inbox(servers: MailServers, raw: bytes) -> None:
    """Write a message straight into the rep's INBOX over IMAP (what a delivered reply looks like)."""
    client = imapclient.IMAPClient("127.0.0.1", port=servers.imap_port, ssl=False, timeout=30)
    try:
        client.login(REP_ADDRESS, REP_PASSWORD)
        client.append("INBOX", raw)
    finally:
        client.logout()


def sync(db: Database, settings: Settings, actor: Actor) -> mailbox_sync.AccountSync:
    (report,) = mailbox_sync.sync_all(db, settings, actor)
    assert report.error is None, report.error
    return report


def test_unknown_user_gets_a_real_postfix_bounce_that_the_worker_syncs_to_bounced(
    lumina_home: Path,
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """The worker's periodic sync (every 0.5 s here) finds Postfix's own DSN in the rep's inbox."""
    worker = start_worker({"LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS": "0.5"})
    address = f"nobody-{tag()}@{DOMAIN}"
    email = send_to(db, actor, settings, address)

    wait_until(lambda: status_of(db, email.id) == EmailStatus.BOUNCED, timeout=90, interval=0.2)

    assert outcomes(db, email.id) == ["sent", "bounced"]
    (bounced,) = events_of(db, email.id, "bounced")
    assert bounced.provider == "imap"
    assert bounced.event_data["kind"] == "hard"
    assert bounced.event_data["recipient"] == address
    assert bounced.event_data["status"] == "5.1.1"
    assert "unknown user" in bounced.event_data["diagnostic"]
    assert bounced.event_data["matched_by"] == "original-headers"
    stored = outbox.get_email(db, actor, email.id)
    assert stored.last_error and "5.1.1" in stored.last_error
    suppressed = suppression_for(db, address)
    assert suppressed is not None and "hard bounce" in suppressed.reason
    # The address is now refused at send time.
    with pytest.raises(SuppressedRecipientError):
        send_to(db, actor, settings, address)
    # The worker read the IMAP password from the secret store; it is nowhere else (db, logs, output).
    worker.stop()
    assert_grep_works(REP_PASSWORD, lumina_home)
    assert_no_secret(REP_PASSWORD, lumina_home)


def test_a_reply_written_into_the_mailbox_shows_as_replied_with_its_own_words(
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    start_worker()
    email = send_to(db, actor, settings, f"{PROSPECT_USER}+{tag()}@{DOMAIN}")
    wait_until(lambda: status_of(db, email.id) == EmailStatus.SENT, timeout=60)
    body = (
        "Tuesday at 10 works for me. Can you send an invite?\n\n"
        "Ana\n\n"
        f"On Tue, 1 Dec 2026 at 09:00, Sam <{REP_ADDRESS}> wrote:\n"
        "> Hi Ana,\n> Would a 15-minute call next Tuesday be useful?\n"
    )
    append_to_inbox(mail_servers, reply_to(email, body))

    report = sync(db, settings, actor)

    assert report.replied == 1 and report.duplicates == 0
    (replied,) = events_of(db, email.id, "replied")
    assert replied.provider == "imap"
    assert replied.event_data["snippet"] == "Tuesday at 10 works for me. Can you send an invite? Ana"
    assert "wrote:" not in replied.event_data["snippet"]
    assert replied.event_data["matched_by"] == "in-reply-to"
    assert replied.event_data["from"] == email.to_email
    assert status_of(db, email.id) == EmailStatus.SENT  # a reply is an event, not a delivery state


def test_sync_twice_and_after_a_uidvalidity_change_records_nothing_twice(
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    start_worker()
    bounced = send_to(db, actor, settings, f"nobody-{tag()}@{DOMAIN}")
    answered = send_to(db, actor, settings, f"{PROSPECT_USER}+{tag()}@{DOMAIN}")
    wait_until(lambda: status_of(db, answered.id) == EmailStatus.SENT, timeout=60)
    append_to_inbox(mail_servers, reply_to(answered, "Yes, let's talk.\n\n> quoted original\n"))

    def both_recorded() -> bool:
        sync(db, settings, actor)
        bounced_now = status_of(db, bounced.id) == EmailStatus.BOUNCED
        return bounced_now and bool(events_of(db, answered.id, "replied"))

    wait_until(both_recorded, timeout=90, interval=0.3)
    recorded = event_count(db)

    again = sync(db, settings, actor)
    assert again.read == 0 and again.replied == again.bounced == 0
    assert event_count(db) == recorded

    before = mailbox_sync.cursor_status(db, actor, rep_account.id)["imap:INBOX"]["cursor"]
    mail_servers.set_uidvalidity(int(before["uidvalidity"]) + 1000)
    resync = sync(db, settings, actor)
    after = mailbox_sync.cursor_status(db, actor, rep_account.id)["imap:INBOX"]["cursor"]

    assert resync.full_resync is True
    assert after["uidvalidity"] == before["uidvalidity"] + 1000
    assert resync.read >= 2  # every message was read again under the new UIDVALIDITY ...
    assert resync.duplicates >= 2 and resync.replied == resync.bounced == 0
    assert event_count(db) == recorded  # ... and nothing was recorded twice
    assert outcomes(db, bounced.id) == ["sent", "bounced"]
    assert outcomes(db, answered.id) == ["sent", "replied"]


def test_a_refused_imap_login_is_reported_without_the_password(
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
) -> None:
    from lumina_tui.services import accounts

    wrong = "wrong-imap-password-d41c"
    account = accounts.add_account(
        db,
        actor,
        provider="smtp",
        email=REP_ADDRESS,
        name="Wrong password",
        settings={
            "host": "127.0.0.1",
            "port": mail_servers.smtp_port,
            "security": "plain",
            "imap": {"host": "127.0.0.1", "port": mail_servers.imap_port, "security": "plain"},
        },
        imap_secret=wrong,
    )
    (report,) = mailbox_sync.sync_all(db, settings, actor, account_ref=account.id)

    assert report.error_kind == "auth"
    assert "refused the login" in (report.error or "")
    assert wrong not in (report.error or "")
    state = mailbox_sync.cursor_status(db, actor, account.id)["imap:INBOX"]
    assert state["last_error"] == report.error and state["cursor"] == {}
    assert wrong.encode() not in db.path.read_bytes()
    for log in settings.log_dir.glob("*.log*"):
        assert wrong not in log.read_text(errors="replace")


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_imap_over_tls_reads_the_mailbox_and_an_unknown_ca_is_refused(
    security: str,
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """Implicit TLS (993-style) and STARTTLS against Dovecot, trusting its CA through `ca_file`."""
    from lumina_tui.services import accounts

    port = mail_servers.imaps_port if security == "ssl" else mail_servers.imap_port

    def add(name: str, ca_file: Path | None) -> Account:
        smtp: dict[str, object] = {"host": "127.0.0.1", "port": mail_servers.smtp_port, "security": "plain"}
        if ca_file is not None:
            smtp["ca_file"] = str(ca_file)
        imap = {"host": "127.0.0.1", "port": port, "security": security}
        return accounts.add_account(
            db, actor, provider="smtp", email=REP_ADDRESS, name=name, settings={**smtp, "imap": imap},
            imap_secret=REP_PASSWORD,
        )  # fmt: skip

    trusted = add(f"tls {security}", mail_servers.ca_file)
    untrusted = add(f"no ca {security}", None)
    start_worker()
    email = send_to(db, actor, settings, f"{PROSPECT_USER}+{tag()}@{DOMAIN}")
    wait_until(lambda: status_of(db, email.id) == EmailStatus.SENT, timeout=60)
    append_to_inbox(mail_servers, reply_to(email, "Over TLS: yes, let's talk."))

    (ok,) = mailbox_sync.sync_all(db, settings, actor, account_ref=trusted.id)
    (refused,) = mailbox_sync.sync_all(db, settings, actor, account_ref=untrusted.id)

    assert ok.error is None and ok.replied == 1
    assert events_of(db, email.id, "replied")[0].event_data["snippet"] == "Over TLS: yes, let's talk."
    assert refused.error_kind == "transient" and "TLS" in (refused.error or "")
