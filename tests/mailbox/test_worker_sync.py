"""The worker's mailbox sync: on its own thread (a mailbox that never answers delays no send, even with
one consumer thread) and on demand through the `sync_mailboxes` doorbell."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from mail_servers import MailServers
from mailbox_support import send_to, status_of, tag
from polling import wait_until
from sending_support import TimedSink, WorkerProcess
from test_real_mail_servers import DOMAIN

from lumina_tui import queue
from lumina_tui.config import Settings
from lumina_tui.services import accounts
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account


class SilentImapServer:
    """Accepts IMAP connections on 127.0.0.1 and never says a word (a mailbox server that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)

    def __enter__(self) -> SilentImapServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def silent_imap() -> Iterator[SilentImapServer]:
    with SilentImapServer() as server:
        yield server


@pytest.fixture
def sink() -> Iterator[TimedSink]:
    with TimedSink() as server:
        yield server


def test_a_mailbox_that_never_answers_delays_no_send(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    silent_imap: SilentImapServer,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    accounts.add_account(
        db,
        actor,
        provider="smtp",
        email="sam@acme.test",
        name="hung mailbox",
        settings={
            "host": sink.host,
            "port": sink.port,
            "security": "plain",
            "timeout": 120,  # the IMAP read waits this long for a greeting that never comes
            "imap": {"host": "127.0.0.1", "port": silent_imap.port, "security": "plain"},
        },
        imap_secret="unused-imap-password",
        make_default=True,
    )
    start_worker({"LUMINA_WORKER__THREADS": "1", "LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS": "0.2"})
    wait_until(lambda: silent_imap.open, timeout=30)  # the sync thread is now stuck in its connect

    emails = [send_to(db, actor, settings, f"prospect{n}@brightwave.example") for n in range(3)]
    for email in emails:
        wait_until(lambda e=email: status_of(db, e.id) == EmailStatus.SENT, timeout=60)

    assert sink.wait_for(3, timeout=60)
    # Still inside the sync's first read: every send went out while the mailbox hung.
    assert len(silent_imap.open) == 1
    assert silent_imap.open[0].fileno() != -1


def test_a_mailbox_that_never_answers_delays_no_other_mailbox(
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
    silent_imap: SilentImapServer,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    accounts.add_account(
        db,
        actor,
        provider="smtp",
        email="sam@acme.test",
        name="hung mailbox",
        settings={
            "host": "127.0.0.1",
            "port": mail_servers.smtp_port,
            "security": "plain",
            "timeout": 120,
            "imap": {"host": "127.0.0.1", "port": silent_imap.port, "security": "plain"},
        },
        imap_secret="unused-imap-password",
    )
    start_worker({"LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS": "0.3"})
    wait_until(lambda: silent_imap.open, timeout=30)
    email = send_to(db, actor, settings, f"nobody-{tag()}@{DOMAIN}")  # from the rep's (default) account

    wait_until(lambda: status_of(db, email.id) == EmailStatus.BOUNCED, timeout=90)
    assert len(silent_imap.open) == 1  # the hung one is still in its first read, and not started twice


def test_the_sync_mailboxes_doorbell_makes_the_worker_sync_now(
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    start_worker()  # LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS=0: it syncs only when asked
    email = send_to(db, actor, settings, f"nobody-{tag()}@{DOMAIN}")
    # Postfix may return the DSN before the worker commits SENT: wait for both.
    wait_until(lambda: status_of(db, email.id) == EmailStatus.SENT, timeout=60)
    wait_until(
        lambda: any(
            email.id in p.read_text(errors="replace") for p in (mail_servers.maildir / "new").iterdir()
        ),
        timeout=60,
    )
    assert status_of(db, email.id) == EmailStatus.SENT  # the bounce is in the mailbox, not yet read

    queue.enqueue_mailbox_sync(settings, rep_account.id)

    wait_until(lambda: status_of(db, email.id) == EmailStatus.BOUNCED, timeout=60)


def test_the_worker_and_three_cli_syncs_at_once_record_each_reply_once(
    db: Database,
    actor: Actor,
    settings: Settings,
    mail_servers: MailServers,
    rep_account: Account,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """Four processes read the same mailbox at the same time: UNIQUE(provider, provider_event_id)."""
    import json
    import subprocess

    from mail_servers import PROSPECT_USER
    from mailbox_support import events_of, reply_to
    from sending_support import lumina_command
    from test_real_mail_servers import append_to_inbox

    start_worker({"LUMINA_WORKER__MAILBOX_SYNC_INTERVAL_SECONDS": "0.2"})
    emails = [send_to(db, actor, settings, f"{PROSPECT_USER}+{tag()}@{DOMAIN}") for _ in range(5)]
    for email in emails:
        wait_until(lambda e=email: status_of(db, e.id) == EmailStatus.SENT, timeout=60)
    for email in emails:
        append_to_inbox(mail_servers, reply_to(email, f"Yes, {email.to_email} is interested."))
    runs = [
        subprocess.Popen(
            lumina_command("emails", "sync", "--json"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        (item,) = json.loads(out)["items"]
        assert item["error"] is None and item["replied"] + item["duplicates"] <= item["read"]

    wait_until(lambda: all(events_of(db, e.id, "replied") for e in emails), timeout=60)
    assert [len(events_of(db, e.id, "replied")) for e in emails] == [1] * 5
