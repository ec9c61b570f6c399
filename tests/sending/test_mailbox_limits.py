"""Per-mailbox send limits: the worker never claims more than a mailbox's per-minute or daily cap;
the email over it waits PENDING_SEND, "scheduled (mailbox limit)", due when the oldest send leaves the
window, and then goes out. Caps come from config per kind of account, or from the account itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from lumina_tui.cli import main
from lumina_tui.config import Settings, load_settings
from lumina_tui.services import accounts, email_state, mailbox_limits, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.store import Database, utcnow
from lumina_tui.store.models import Account, Email, EmailDraft
from lumina_tui.tui.screens.outbox import OutboxEmail
from lumina_tui.worker import tasks
from lumina_tui.worker.provider_pool import ProviderPool


def _ctx(db: Database, settings: Settings) -> tasks.WorkerRuntime:
    return tasks.WorkerRuntime(
        settings=settings, db=db, worker_id=tasks.new_worker_id(), providers=ProviderPool(db, settings),
        rng=random.Random(3),
    )  # fmt: skip


def _row(db: Database, email_id: str) -> Email:
    with db.read() as session:
        return session.execute(select(Email).where(Email.id == email_id)).scalar_one()


def _send(
    db: Database, actor: Actor, settings: Settings, make_draft: Callable[..., EmailDraft], n: int
) -> str:
    return sending.send(db, actor, draft_id=make_draft(subject=f"Limit {n}").id, settings=settings).email.id


def test_defaults_per_kind_and_an_account_override(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mailbox_limits.limits_for(settings, "gmail", None) == mailbox_limits.Limits(20, 500)
    assert mailbox_limits.limits_for(settings, "outlook", None) == mailbox_limits.Limits(30, 10000)
    assert not mailbox_limits.limits_for(settings, "smtp", None).any
    monkeypatch.setenv("LUMINA_SEND_LIMITS__GMAIL__PER_DAY", "2000")  # a Workspace account
    assert mailbox_limits.limits_for(load_settings(), "gmail", None) == mailbox_limits.Limits(20, 2000)
    own = Account(
        workspace_id="w",
        user_id="u",
        provider="gmail",
        name="g",
        email="g@x.test",
        settings={"per_minute": 5},
    )
    assert mailbox_limits.limits_for(settings, "gmail", own) == mailbox_limits.Limits(5, 500)


def test_the_email_over_the_per_minute_cap_is_scheduled_then_sent(
    db: Database,
    actor: Actor,
    make_draft: Callable[..., EmailDraft],
    maildir_account: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_SEND_LIMITS__MAILDIR__PER_MINUTE", "2")
    settings = load_settings()
    ctx = _ctx(db, settings)
    ids = [_send(db, actor, settings, make_draft, n) for n in range(3)]
    assert [tasks.send_email(ctx, email_id) for email_id in ids] == ["sent", "sent", "not_due"]

    waiting = _row(db, ids[2])
    assert (waiting.status, waiting.attempts) == (EmailStatus.PENDING_SEND, 0)  # no attempt was spent
    assert email_state.status_note(waiting) == "scheduled (mailbox limit)"
    assert "2 sent in a minute (limit 2)" in (waiting.last_error or "")
    first_sent = _row(db, ids[0]).sent_at
    assert first_sent is not None and waiting.next_attempt_at is not None
    assert abs((waiting.next_attempt_at - (first_sent + timedelta(minutes=1))).total_seconds()) < 1.5
    assert OutboxEmail.from_row(waiting).status_label(utcnow()) == "◷ Scheduled (mailbox limit)"
    listed = CliRunner().invoke(main, ["emails", "list"])
    assert f"{ids[2]}  PENDING_SEND (scheduled (mailbox limit))" in listed.stdout

    # A minute later (moved back in time rather than waited for) the slot is free and it goes out.
    with db.write() as session:
        session.execute(
            update(Email)
            .where(Email.id.in_(ids[:2]))  # type: ignore[attr-defined]
            .values(sent_at=utcnow() - timedelta(seconds=61))
        )
        session.execute(update(Email).where(Email.id == ids[2]).values(next_attempt_at=utcnow()))  # type: ignore[arg-type]
    assert tasks.send_email(ctx, ids[2]) == "sent"
    done = _row(db, ids[2])
    assert done.status == EmailStatus.SENT and done.last_error is None and done.attempts == 1


def test_a_daily_cap_on_the_account_and_in_flight_sends_count(
    db: Database, actor: Actor, make_draft: Callable[..., EmailDraft], settings: Settings
) -> None:
    account = accounts.add_account(
        db,
        actor,
        provider="maildir",
        email="sam@acme.test",
        name="Capped",
        settings={"per_day": 2},
        make_default=True,
    )
    ctx = _ctx(db, settings)
    ids = [_send(db, actor, settings, make_draft, n) for n in range(3)]
    assert tasks.send_email(ctx, ids[0]) == "sent"
    claimed, _ = tasks.claim(ctx, ids[1])  # in flight (SENDING): it takes the second slot already
    assert claimed is not None and claimed.account_id == account.id
    assert tasks.send_email(ctx, ids[2]) == "not_due"
    parked = _row(db, ids[2])
    assert "in 24 hours (limit 2)" in (parked.last_error or "")
    assert parked.next_attempt_at is not None and parked.next_attempt_at > utcnow() + timedelta(hours=23)


def test_an_interrupted_email_keeps_its_check_before_retry_while_it_waits(
    db: Database,
    actor: Actor,
    make_draft: Callable[..., EmailDraft],
    maildir_account: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_SEND_LIMITS__MAILDIR__PER_MINUTE", "1")
    settings = load_settings()
    ctx = _ctx(db, settings)
    first, second = (_send(db, actor, settings, make_draft, n) for n in range(2))
    assert tasks.send_email(ctx, first) == "sent"
    with db.write() as session:
        session.execute(
            update(Email)
            .where(Email.id == second)  # type: ignore[arg-type]
            .values(last_error=f"{email_state.INTERRUPTED_PREFIX} cut off")
        )
    assert tasks.send_email(ctx, second) == "not_due"
    parked = _row(db, second)
    assert email_state.may_have_gone_out(parked.last_error)
    assert email_state.status_note(parked) == "scheduled (mailbox limit)"


def test_a_drain_claims_no_more_than_the_cap_and_parks_the_rest_of_its_batch(
    db: Database,
    actor: Actor,
    make_draft: Callable[..., EmailDraft],
    maildir_account: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMINA_SEND_LIMITS__MAILDIR__PER_MINUTE", "2")
    settings = load_settings()
    ctx = _ctx(db, settings)
    ids = [_send(db, actor, settings, make_draft, n) for n in range(4)]
    assert tasks.drain(ctx, batch=8) == 2  # one batch held all four; the cap let two through
    rows = [_row(db, email_id) for email_id in ids]
    assert [r.status for r in rows] == [EmailStatus.SENT] * 2 + [EmailStatus.PENDING_SEND] * 2
    for waiting in rows[2:]:
        assert waiting.attempts == 0 and email_state.status_note(waiting) == "scheduled (mailbox limit)"
        assert waiting.next_attempt_at is not None and waiting.next_attempt_at > utcnow()
    assert tasks.drain(ctx) == 0  # parked: not due, so a second drain has nothing to do
