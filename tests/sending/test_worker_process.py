"""A real `lumina worker` process delivering to a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from email.headerregistry import Address
from pathlib import Path

import pytest
from polling import wait_until
from sending_support import TimedSink, WorkerProcess, lumina_command
from sqlalchemy import select

from lumina_tui import queue
from lumina_tui.config import Settings, load_settings
from lumina_tui.services import outbox, sending, worker_control, worker_heartbeat, worker_status
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft


def status_of(db: Database, email_id: str) -> str:
    with db.read() as session:
        return session.execute(select(Email.status).where(Email.id == email_id)).scalar_one()


def wait_status(db: Database, email_id: str, *statuses: str, timeout: float = 90.0) -> str:
    return wait_until(
        lambda: status_of(db, email_id) in statuses and status_of(db, email_id), timeout=timeout
    )


def test_each_email_reaches_the_smtp_server_once_and_parses_back(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    start_worker()
    emails = [
        sending.send(
            db,
            actor,
            draft_id=make_draft(subject=f"Grüße aus Rotterdam — Frage {n} ✓").id,
            settings=settings,
        ).email
        for n in range(5)
    ]
    for email in emails:
        wait_status(db, email.id, EmailStatus.SENT)
    assert sink.wait_for(5, timeout=60)
    assert len(sink.messages) == 5
    for n, email in enumerate(emails):
        (received,) = sink.by_header("X-Lumina-Email-Id", email.id)
        message = received.parsed()
        assert message["Message-ID"] == email.message_id
        assert message["Date"].datetime is not None
        assert message["Subject"] == f"Grüße aus Rotterdam — Frage {n} ✓"
        assert message["From"].addresses == (Address("Sam Müller", "sam", "acme.test"),)
        assert message["To"].addresses == (Address("Ána Okafor", "ana.okafor", "brightwave.example"),)
        assert message.get_content_type() == "multipart/alternative"
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        assert "Would a 15-minute call" in plain.get_content()
        assert "<p>Would a 15-minute call" in html.get_content()
        assert received.rcpt_tos == ("ana.okafor@brightwave.example",)
        stored = outbox.get_email(db, actor, email.id)
        assert stored.provider_message_id == email.message_id and stored.attempts == 1
        assert [e.event_type for e in outbox.list_events(db, actor, email.id)] == ["queued", "sent"]


@pytest.mark.chaos
def test_451_twice_then_sent_and_550_failed_after_one_attempt(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    busy = [f"busy{n}@later.example" for n in range(3)]
    gone = [f"gone{n}@nowhere.example" for n in range(2)]
    for address in busy:
        sink.fail_rcpt(address, "451 4.3.0 Mailbox busy, try again later", times=2)
    for address in gone:
        sink.fail_rcpt(address, "550 5.1.1 No such user here")
    start_worker()
    ids = {
        address: sending.send(
            db, actor, draft_id=make_draft().id, to_email=address, settings=settings
        ).email.id
        for address in busy + gone
    }
    for address in busy:
        wait_status(db, ids[address], EmailStatus.SENT)
        email = outbox.get_email(db, actor, ids[address])
        assert email.attempts == 3 and email.last_error is None
        assert sink.rcpt_attempts[address] == 3
        assert len(sink.by_header("X-Lumina-Email-Id", email.id)) == 1
    for address in gone:
        wait_status(db, ids[address], EmailStatus.FAILED)
        email = outbox.get_email(db, actor, ids[address])
        assert email.attempts == 1 and sink.rcpt_attempts[address] == 1
        assert "550 5.1.1 No such user here" in email.last_error
        _queued, event = outbox.list_events(db, actor, email.id)
        assert event.event_type == "failed" and "550" in event.event_data["reason"]
        assert event.event_data["kind"] == "permanent"
    assert len(sink.messages) == len(busy)
    # A rep's retry of a FAILED email goes through the same row once the server accepts it.
    sink.fail_rcpt(gone[0], "250 OK", times=0)
    retried = outbox.retry(db, actor, ids[gone[0]], settings=settings)
    wait_status(db, retried.id, EmailStatus.SENT)
    assert outbox.list_emails(db, actor).total == len(busy) + len(gone)


def test_cancel_inside_the_undo_window_sends_nothing(
    db: Database,
    actor: Actor,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    windowed = load_settings(undo_window_seconds=2)
    cancelled = sending.send(db, actor, draft_id=make_draft().id, settings=windowed).email
    kept = sending.send(db, actor, draft_id=make_draft().id, settings=windowed).email
    outbox.cancel(db, actor, cancelled.id)
    # The worker starts after the cancel: however slowly the sends above ran on a loaded machine
    # (past the 2 s window, even), the cancel found the email waiting, as it does inside a window.
    start_worker()
    # The control email from the same window goes out, so the worker did look at both doorbells.
    wait_status(db, kept.id, EmailStatus.SENT)
    wait_until(lambda: queue.queued_count(windowed) == 0)
    assert status_of(db, cancelled.id) == EmailStatus.CANCELLED
    assert sink.by_header("X-Lumina-Email-Id", cancelled.id) == []
    assert len(sink.messages) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_lets_the_current_send_finish(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    start_worker: Callable[..., WorkerProcess],
    signum: int,
) -> None:
    sink.hold_data = True  # the server holds DATA until released: the send is in flight
    worker = start_worker()
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    wait_until(lambda: sink.data_started)
    assert status_of(db, email.id) == EmailStatus.SENDING
    worker.signal(signum)
    wait_until(lambda: _signal_delivered(worker.pid, signum))  # the worker has it, mid-send
    sink.data_release.set()
    assert worker.wait(60) == 0
    assert status_of(db, email.id) == EmailStatus.SENT
    assert len(sink.by_header("X-Lumina-Email-Id", email.id)) == 1
    assert not worker_status.read_status(settings).online  # the heartbeat left with it


def test_a_second_worker_on_the_same_data_dir_refuses_to_start(
    settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    first = start_worker()
    second = subprocess.run(lumina_command("worker"), capture_output=True, text=True, timeout=60)
    assert second.returncode == 0
    assert "already running" in second.stderr and str(first.pid) in second.stderr
    assert first.alive()
    status = worker_status.read_status(settings)
    assert status.online and status.pid == first.pid


def test_a_sidecar_starts_when_the_sender_asks_exits_when_idle_and_comes_back_with_the_next(
    db: Database,
    actor: Actor,
    settings: Settings,
    sink: TimedSink,
    smtp_account: Account,
    make_draft: Callable[..., EmailDraft],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not worker_control.ensure_running(settings)  # the tests' conftest turns autostart off
    monkeypatch.setenv("LUMINA_WORKER__AUTOSTART_SIDECAR", "true")
    monkeypatch.setenv("LUMINA_WORKER__IDLE_EXIT_SECONDS", "1")
    sidecar_settings = load_settings()
    stamp = settings.data_dir / worker_control.SPAWN_STAMP_FILE

    def by_the_service_then_asked() -> str:
        """The composer's way: the send service starts nothing; the caller asks for a worker."""
        email = sending.send(db, actor, draft_id=make_draft().id, settings=sidecar_settings).email
        assert not worker_status.read_status(sidecar_settings).online
        assert not stamp.exists() or stamp.read_text() == spawned_before, "sending.send spawned a worker"
        assert worker_control.ensure_running(sidecar_settings)
        return email.id

    def by_the_cli() -> str:
        """`lumina send` asks for a worker itself."""
        done = subprocess.run(
            lumina_command("send", "--draft", make_draft().id, "--json"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["id"])

    def deliver_one(send: Callable[[], str]) -> int:
        email_id = send()
        assert not worker_control.ensure_running(sidecar_settings)  # one is starting: not a second
        wait_status(db, email_id, EmailStatus.SENT)
        status = wait_until(lambda: (s := worker_status.read_status(sidecar_settings, db)).online and s)
        assert status.pending_count == 0
        # Nothing pending: it leaves by itself after the idle time.
        # (A sidecar the CLI started is not our child: its heartbeat leaving is what says it is gone.)
        wait_until(
            lambda: not worker_status.read_status(sidecar_settings).online
            and (not worker_heartbeat.pid_alive(status.pid) or _reaped(status.pid)),
            timeout=60,
        )
        return status.pid

    spawned_before = ""
    first = deliver_one(by_the_service_then_asked)
    spawned_before = stamp.read_text()
    second = deliver_one(by_the_cli)  # the sidecar left; the next send brought a new one
    assert second != first
    assert len(sink.messages) == 2
    # A sidecar the CLI started is not our child: its heartbeat leaves (what the wait above sees)
    # just before it logs its exit, so the second line may still be on its way.
    wait_until(
        lambda: (settings.log_dir / "worker.log").read_text(encoding="utf-8").count(
            "the sidecar worker exits"
        )
        == 2,
        timeout=60,
    )


def _signal_delivered(pid: int, signum: int) -> bool:
    """The kernel handed `signum` to the process (no longer pending in /proc/<pid>/status)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    pending = int(fields["ShdPnd"].strip(), 16) | int(fields["SigPnd"].strip(), 16)
    return not pending & (1 << (signum - 1))


def _reaped(pid: int) -> bool:
    """The sidecar is our child (until the test process exits): reap it so it does not look alive."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def test_worker_status_follows_the_heartbeat(
    settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    assert worker_status.read_status(settings).reason == "no worker heartbeat"
    worker = start_worker()
    status = worker_status.read_status(settings)
    assert status.online and status.pid == worker.pid and status.last_beat is not None
    first_beat = status.last_beat
    wait_until(lambda: worker_status.read_status(settings).last_beat > first_beat)
    worker.kill()  # no clean exit: the file stays, but its pid is gone
    status = worker_status.read_status(settings)
    assert not status.online and "gone" in status.reason
