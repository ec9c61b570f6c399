"""The queue's backends and doorbells, and the worker's handlers run in-process on real SQLite files
(claim, finish, backoff, the sweep, recovery after an interrupted send)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from huey import PriorityRedisHuey, SqliteHuey
from sqlalchemy import select, text, update

from lumina_tui import queue
from lumina_tui.config import Settings, load_settings
from lumina_tui.providers.base import SendReceipt
from lumina_tui.services import accounts, email_state, outbox, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database, utcnow
from lumina_tui.store.models import Account, Email, EmailDraft
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool


@pytest.fixture
def ctx(db: Database, settings: Settings) -> tasks.WorkerRuntime:
    return tasks.WorkerRuntime(
        settings=settings,
        db=db,
        worker_id=tasks.new_worker_id(),
        providers=ProviderPool(db, settings),
        rng=random.Random(7),
    )


def row(db: Database, email_id: str) -> Email:
    with db.read() as session:
        return session.execute(select(Email).where(Email.id == email_id)).scalar_one()


def outbox_files(settings: Settings) -> list[Path]:
    return sorted((settings.outbox_dir / "new").glob("*")) if (settings.outbox_dir / "new").exists() else []


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- queue -----------------------------------------------------------------------------------------


def test_the_default_queue_is_a_sqlite_file_in_the_data_dir(settings: Settings) -> None:
    huey = queue.get_huey(settings)
    assert isinstance(huey, SqliteHuey)
    assert Path(huey.storage.filename) == settings.queue_path == settings.data_dir / "queue.db"
    assert queue.queue_location(settings) == f"sqlite:///{settings.queue_path}"


def test_queue_url_picks_redis_and_explains_what_it_cannot_use() -> None:
    redis = queue.build_huey(load_settings(queue_url="redis://127.0.0.1:1/0"))
    assert isinstance(redis, PriorityRedisHuey)  # built without connecting
    try:
        import psycopg  # noqa: F401
    except ImportError:
        with pytest.raises(queue.QueueConfigurationError, match="psycopg"):
            queue.build_huey(load_settings(queue_url="postgresql://lumina:secret@127.0.0.1/lumina"))
    with pytest.raises(queue.QueueConfigurationError) as caught:
        queue.build_huey(load_settings(queue_url="amqp://user:hunter2@mq.example/lumina"))
    assert "hunter2" not in str(caught.value) and "unsupported scheme 'amqp'" in str(caught.value)


def test_a_doorbell_rings_only_the_handler_a_worker_registered(settings: Settings) -> None:
    huey = queue.get_huey(settings)
    queue.enqueue_send(settings, "email-1")
    task = huey.dequeue()
    with pytest.raises(RuntimeError, match="only a Lumina worker"):
        task.execute()
    seen: list[str] = []
    queue.register_handlers(send_email=seen.append, sweep=lambda: None)
    queue.enqueue_send(settings, "email-2")
    huey.dequeue().execute()
    assert seen == ["email-2"]
    before = utcnow()
    queue.enqueue_send(settings, "email-3", delay_seconds=30)
    after = utcnow()
    (later,) = huey.pending()
    # Due 30 s after it was rung, whenever that was (bracketed, so a slow machine changes nothing).
    assert later.eta is not None
    assert before + timedelta(seconds=29.5) <= later.eta <= after + timedelta(seconds=30.5)


def test_huey_rings_the_sweep_every_minute(settings: Settings) -> None:
    huey = queue.get_huey(settings)
    for minute in (0, 1, 37):
        (periodic,) = huey.read_periodic(datetime(2026, 1, 1, 12, minute))
        assert type(periodic).__name__ == queue.SWEEP
    swept: list[int] = []
    queue.register_handlers(send_email=lambda email_id: None, sweep=lambda: swept.append(1))
    periodic.execute()
    assert swept == [1]


# -- claim and finish ------------------------------------------------------------------------------


def test_send_email_claims_delivers_and_records_once(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    assert tasks.send_email(ctx, email.id) == "sent"
    sent = row(db, email.id)
    assert (sent.status, sent.attempts, sent.lease_owner) == (EmailStatus.SENT, 1, None)
    assert sent.sent_at is not None and sent.provider_message_id == email.message_id
    queued, event = outbox.list_events(db, actor, email.id)
    assert queued.event_type == "queued"
    assert event.event_type == "sent" and event.event_data["recovered"] is False
    assert (event.event_data["attempt"], event.event_data["result"]) == (1, "sent")
    # A duplicate doorbell finds nothing to claim: no second file, no second event.
    assert tasks.send_email(ctx, email.id) == "not_claimable"
    assert len(outbox_files(settings)) == 1
    assert len(outbox.list_events(db, actor, email.id)) == 2


def test_a_row_inside_its_undo_window_is_not_claimed_but_rung_again_for_later(
    db: Database,
    actor: Actor,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    windowed = load_settings(undo_window_seconds=30)
    email = sending.send(db, actor, draft_id=make_draft().id, settings=windowed).email
    queue.get_huey(windowed).flush()
    assert tasks.send_email(ctx, email.id) == "not_due"
    assert row(db, email.id).status == EmailStatus.PENDING_SEND and row(db, email.id).attempts == 0
    (doorbell,) = queue.get_huey(windowed).pending()
    # Rung for the end of the window, not now (30 s earlier): the slack above is only the time
    # between computing the delay and huey stamping the eta, generous for a loaded machine.
    assert timedelta(seconds=-0.5) <= doorbell.eta - email.send_after < timedelta(seconds=5)


def test_the_finish_is_conditional_on_holding_the_lease(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    claimed, _ = tasks.claim(ctx, email.id)
    assert claimed is not None and claimed.status == EmailStatus.SENDING
    assert tasks.claim(ctx, email.id)[0] is None  # a second claim does nothing
    # Another attempt owns it now: our finish must not touch it.
    with db.write() as session:
        session.execute(update(Email).where(Email.id == email.id).values(lease_owner="other-host:1:x#y"))
    receipt = SendReceipt(provider_message_id=email.message_id)
    assert tasks._finish(ctx, claimed, receipt, recovered=False) == "sent_unrecorded"
    assert row(db, email.id).status == EmailStatus.SENDING
    # Our lease ran out and the sweep took the row back: the message did go out, so it is SENT.
    with db.write() as session:
        session.execute(
            update(Email)
            .where(Email.id == email.id)
            .values(status=EmailStatus.PENDING_SEND, lease_owner=None)
        )
    assert tasks._finish(ctx, claimed, receipt, recovered=False) == "sent"
    assert row(db, email.id).status == EmailStatus.SENT


# -- failures --------------------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_and_is_capped(settings: Settings) -> None:
    rng = random.Random(1)
    base, cap = settings.worker.backoff_base_seconds, settings.worker.backoff_cap_seconds
    for attempts in range(1, 8):
        delay = tasks.backoff_seconds(attempts, settings, rng)
        raw = base * 2 ** (attempts - 1)
        assert min(cap, raw * 0.8) <= delay <= min(cap, raw * 1.2)
    assert tasks.backoff_seconds(60, load_settings(), rng) <= 900.0


@pytest.fixture
def unreachable_account(db: Database, actor: Actor, refused_port: int) -> Account:
    return accounts.add_account(
        db,
        actor,
        provider="smtp",
        email="sam@acme.test",
        settings={"host": "127.0.0.1", "port": refused_port, "security": "plain", "timeout": 30},
        make_default=True,
    )


def test_a_transient_failure_backs_off_then_gives_up_at_max_age(
    db: Database,
    actor: Actor,
    ctx: tasks.WorkerRuntime,
    unreachable_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=ctx.settings).email
    before = utcnow()
    assert tasks.send_email(ctx, email.id) == "retry_scheduled"
    waiting = row(db, email.id)
    assert waiting.status == EmailStatus.PENDING_SEND and waiting.attempts == 1
    assert "refused" in (waiting.last_error or "")
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > before
    queued, deferred = outbox.list_events(db, actor, email.id)
    assert (queued.event_type, deferred.event_type) == ("queued", "deferred")
    assert deferred.event_data["attempt"] == 1 and deferred.event_data["result"] == "transient_failure"
    assert "refused" in deferred.event_data["reason"]

    ctx.settings = load_settings(worker={"max_age_seconds": 0})
    with db.write() as session:
        session.execute(update(Email).where(Email.id == email.id).values(next_attempt_at=None))
    assert tasks.send_email(ctx, email.id) == "failed"
    failed = row(db, email.id)
    assert failed.status == EmailStatus.FAILED and failed.attempts == 2
    assert failed.last_error.startswith("gave up after 2 attempts")
    event = outbox.list_events(db, actor, email.id)[-1]
    assert event.event_type == "failed" and event.event_data["kind"] == "expired"
    assert (event.event_data["attempt"], event.event_data["result"]) == (2, "permanent_failure")


def test_an_email_whose_account_was_removed_fails_at_once(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    with db.write() as session:
        session.execute(text("DELETE FROM user_preferences"))
        session.execute(text("UPDATE email_drafts SET account_id = NULL"))
        session.execute(text("DELETE FROM accounts"))
    assert tasks.send_email(ctx, email.id) == "failed"
    assert "removed" in (row(db, email.id).last_error or "")


# -- the sweep -------------------------------------------------------------------------------------


def _claim_as(db: Database, email_id: str, owner: str, expires_in: float) -> None:
    with db.write() as session:
        session.execute(
            update(Email)
            .where(Email.id == email_id)
            .values(
                status=EmailStatus.SENDING,
                attempts=Email.attempts + 1,
                lease_owner=owner,
                lease_expires_at=utcnow() + timedelta(seconds=expires_in),
            )
        )


def test_the_sweep_takes_back_only_claims_that_cannot_finish(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    ids = [sending.send(db, actor, draft_id=make_draft().id, settings=settings).email.id for _ in range(5)]
    host = socket.gethostname()
    _claim_as(db, ids[0], f"{host}:{dead_pid()}:deadbeef#1", expires_in=60)  # its process is gone
    _claim_as(db, ids[1], f"{ctx.worker_id}#2", expires_in=60)  # ours, still running
    _claim_as(db, ids[2], f"{ctx.worker_id}#3", expires_in=-1)  # ours, lease overrun
    _claim_as(db, ids[3], "another-host:42:cafe#4", expires_in=60)  # elsewhere, lease valid
    _claim_as(db, ids[4], f"{host}:{os.getpid()}:0ld1d#5", expires_in=60)  # an earlier life of our pid
    queue.get_huey(settings).flush()

    report = tasks.sweep(ctx)
    assert report.reclaimed == 3
    statuses = [row(db, email_id).status for email_id in ids]
    assert statuses == [
        EmailStatus.PENDING_SEND,
        EmailStatus.SENDING,
        EmailStatus.PENDING_SEND,
        EmailStatus.SENDING,
        EmailStatus.PENDING_SEND,
    ]
    for email_id in (ids[0], ids[2], ids[4]):
        taken_back = row(db, email_id)
        assert taken_back.last_error.startswith(email_state.INTERRUPTED_PREFIX)
        assert taken_back.lease_owner is None
    rung = sorted(task.args[0] for task in queue.get_huey(settings).pending())
    assert rung == sorted([ids[0], ids[2], ids[4]])


def test_a_periodic_sweep_rings_only_rows_overdue_by_a_sweep_interval(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    sending.send(db, actor, draft_id=make_draft().id, settings=settings)
    queue.get_huey(settings).flush()
    ctx.settings = load_settings(worker={"sweep_interval_seconds": 3600})
    assert tasks.sweep(ctx).enqueued == 0  # just due: its doorbell may still be on its way
    assert tasks.sweep(ctx, grace_seconds=0).enqueued == 1


def test_after_an_interrupted_send_the_provider_is_asked_first(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    # A worker claimed it, the Maildir got the message, then the worker died before finishing.
    _claim_as(db, email.id, f"{socket.gethostname()}:{dead_pid()}:deadbeef#1", expires_in=60)
    provider = accounts.open_provider_for(db, settings, maildir_account.id)
    provider.send(tasks._message(row(db, email.id)), email_id=email.id)
    assert len(outbox_files(settings)) == 1

    tasks.sweep(ctx)
    assert tasks.send_email(ctx, email.id) == "sent"
    recovered = row(db, email.id)
    assert recovered.status == EmailStatus.SENT and recovered.attempts == 2 and recovered.last_error is None
    queued, interrupted, event = outbox.list_events(db, actor, email.id)
    assert (queued.event_type, interrupted.event_type, event.event_type) == ("queued", "interrupted", "sent")
    assert interrupted.event_data["attempt"] == 1 and event.event_data["attempt"] == 2
    assert event.event_data["recovered"] is True
    assert len(outbox_files(settings)) == 1


def test_a_manual_retry_restarts_the_age_that_backoff_gives_up_at(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    with db.read() as session:
        assert tasks._delivery_started(session, row(db, email.id)) == email.created_at
    with db.write() as session:
        session.execute(update(Email).where(Email.id == email.id).values(status=EmailStatus.FAILED))
    outbox.retry(db, actor, email.id, settings=settings)
    _queued, retried = outbox.list_events(db, actor, email.id)
    with db.read() as session:
        assert tasks._delivery_started(session, row(db, email.id)) == retried.occurred_at > email.created_at


# -- drain: a doorbell sends every due email -------------------------------------------------------


def test_drain_sends_every_due_email_once_in_batches_and_leaves_the_rest(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    due = [sending.send(db, actor, draft_id=make_draft().id, settings=settings).email.id for _ in range(5)]
    later = sending.send(
        db, actor, draft_id=make_draft().id, settings=load_settings(undo_window_seconds=300)
    ).email.id
    cancelled = sending.send(
        db, actor, draft_id=make_draft().id, settings=load_settings(undo_window_seconds=300)
    ).email.id
    outbox.cancel(db, actor, cancelled)

    assert tasks.drain(ctx, batch=2, limit=3) == 3  # the limit ends a drain; the rest stays due
    assert tasks.drain(ctx, batch=2) == 2  # 2 + 0: it stops when nothing is due
    for email_id in due:
        sent = row(db, email_id)
        assert (sent.status, sent.attempts, sent.lease_owner) == (EmailStatus.SENT, 1, None)
        assert [e.event_type for e in outbox.list_events(db, actor, email_id)] == ["queued", "sent"]
    assert (row(db, later).status, row(db, later).attempts) == (EmailStatus.PENDING_SEND, 0)
    assert row(db, cancelled).status == EmailStatus.CANCELLED
    assert len(outbox_files(settings)) == 5
    # The doorbells of the drained emails find them gone: no second message, no second event.
    assert {tasks.send_email(ctx, email_id) for email_id in due} == {"not_claimable"}
    assert len(outbox_files(settings)) == 5


def test_a_batch_claim_reads_back_exactly_the_rows_it_won_as_stored(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    """The claim's read-back (RETURNING on SQLite, the ORM on PostgreSQL) is the row as stored,
    column for column (dates, JSON, the lease), oldest first; the account's version comes along."""
    ids = [sending.send(db, actor, draft_id=make_draft().id, settings=settings).email.id for _ in range(3)]
    claimed = tasks.claim_due(ctx, 2)
    assert [email.id for email in claimed.emails] == ids[:2]
    for email in claimed.emails:
        stored = row(db, email.id)
        assert stored.status == EmailStatus.SENDING and stored.attempts == 1
        assert email.model_dump() == stored.model_dump()
    with db.read() as session:
        account = session.get(Account, maildir_account.id)
        assert account is not None
        assert claimed.accounts == {account.id: (account.updated_at, account.status)}
    assert row(db, ids[2]).status == EmailStatus.PENDING_SEND


def test_claims_whose_lease_ran_low_during_slow_sends_go_back_unattempted(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch whose first send took most of the lease (a provider timing out) must not send the
    rest on that lease: the sweep could take them back and ring them meanwhile. They go back due
    now, unattempted, and the next claim sends them on a fresh lease, once each."""
    ids = [sending.send(db, actor, draft_id=make_draft().id, settings=settings).email.id for _ in range(3)]
    now = [utcnow()]
    ctx.clock = lambda: now[0]
    real_attempt = tasks._attempt
    slow: list[str] = []

    def slow_first(ctx: tasks.WorkerRuntime, email: Email, **kwargs: Any) -> str:
        result = real_attempt(ctx, email, **kwargs)
        if not slow:
            slow.append(email.id)
            now[0] += timedelta(seconds=settings.worker.lease_seconds * 0.6)  # a send that timed out
        return result

    monkeypatch.setattr(tasks, "_attempt", slow_first)
    assert tasks.drain(ctx, batch=3) == 3
    for email_id in ids:
        sent = row(db, email_id)
        assert sent.status == EmailStatus.SENT
        events = [e.event_type for e in outbox.list_events(db, actor, email_id)]
        assert events == (["queued", "sent"] if email_id == ids[0] else ["queued", "deferred", "sent"])
        assert sent.attempts == (1 if email_id == ids[0] else 2)
    assert len(outbox_files(settings)) == 3  # each message once


def test_a_stopping_worker_drains_nothing(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    ctx.stopping.set()
    assert tasks.drain(ctx) == 0
    assert row(db, email.id).status == EmailStatus.PENDING_SEND


def test_after_an_error_mid_batch_the_unattempted_claims_go_back_due_now(
    db: Database,
    actor: Actor,
    settings: Settings,
    ctx: tasks.WorkerRuntime,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [sending.send(db, actor, draft_id=make_draft().id, settings=settings).email.id for _ in range(3)]
    real_attempt = tasks._attempt
    calls: list[str] = []

    def failing_second(ctx: tasks.WorkerRuntime, email: Email, **kwargs: Any) -> str:  # fault injection
        calls.append(email.id)
        if len(calls) == 2:
            raise RuntimeError("the store went away")
        return real_attempt(ctx, email, **kwargs)

    monkeypatch.setattr(tasks, "_attempt", failing_second)
    with pytest.raises(RuntimeError):
        tasks.drain(ctx, batch=3)
    first, failed, untouched = (row(db, email_id) for email_id in calls + [i for i in ids if i not in calls])
    assert first.status == EmailStatus.SENT
    # The one that raised keeps its claim (its lease says so; the sweep takes it back); the one
    # never attempted is handed back at once, due now, with its own `deferred` event.
    assert failed.status == EmailStatus.SENDING
    assert (untouched.status, untouched.lease_owner) == (EmailStatus.PENDING_SEND, None)
    assert untouched.next_attempt_at is not None and untouched.next_attempt_at <= utcnow()
    events = outbox.list_events(db, actor, untouched.id)
    assert [e.event_type for e in events] == ["queued", "deferred"]
    assert events[-1].event_data["may_have_gone_out"] is False
    monkeypatch.setattr(tasks, "_attempt", real_attempt)
    assert tasks.drain(ctx) == 1 and row(db, untouched.id).status == EmailStatus.SENT
