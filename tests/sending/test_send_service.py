"""services.sending without a worker: the snapshot, idempotency, every refusal, cancel, retry, lists."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lumina_tui import queue
from lumina_tui.config import Settings, load_settings
from lumina_tui.services import company_data, drafts, email_state, events, outbox, sending, suppressions
from lumina_tui.services.actors import Actor, new_workspace
from lumina_tui.services.email_state import EmailStatus
from lumina_tui.services.errors import (
    AlreadySentError,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    StaleRevisionError,
    SuppressedRecipientError,
    ValidationError,
)
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft, EmailEvent, Prospect


def email_count(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(Email)).scalar_one())


def assert_nothing_stored_or_enqueued(db: Database, settings: Settings, draft: EmailDraft) -> None:
    assert email_count(db) == 0
    assert queue.queued_count(settings) == 0
    with db.read() as session:
        stored = session.get(EmailDraft, draft.id)
    assert stored is not None and stored.sent_at is None and stored.email_id is None


@pytest.fixture
def windowed(settings: Settings) -> Settings:
    """Settings with a 10 s undo window, as a rep has it by default."""
    return load_settings(undo_window_seconds=10)


def test_send_stores_the_full_snapshot_then_rings_once(
    db: Database,
    actor: Actor,
    windowed: Settings,
    maildir_account: Account,
    prospect: Prospect,
    make_draft: Callable[..., EmailDraft],
) -> None:
    with db.write() as session:
        company_data.upsert(
            session, actor, "brightwave.example", {"name": "Brightwave Logistics", "industry": "Logistics"}
        )
    draft = make_draft()
    result = sending.send(
        db,
        actor,
        draft_id=draft.id,
        idempotency_key="key-1",
        revision=draft.revision,
        accepted_suggestion_ids=["s2", "s1"],
        settings=windowed,
    )
    email = result.email
    assert result.created
    assert email.status == EmailStatus.PENDING_SEND and email.attempts == 0
    assert (email.account_id, email.provider) == (maildir_account.id, "maildir")
    assert (email.from_email, email.to_email, email.to_name) == (
        "sam@acme.test",
        "ana.okafor@brightwave.example",
        "Ána Okafor",
    )
    assert (email.subject, email.body_text, email.body_html) == (
        draft.subject,
        draft.body_text,
        draft.body_html,
    )
    assert email.prospect_id == prospect.id
    assert email.prospect_snapshot["first_name"] == "Ána"
    assert email.prospect_snapshot["company_data"]["industry"] == "Logistics"
    assert email.accepted_suggestion_ids == ["s1", "s2"]
    assert email.idempotency_key == "key-1" and len(email.request_fingerprint) == 64
    assert email.message_id == f"<{email.id}@acme.test>"
    assert timedelta(seconds=9.5) <= email.send_after - email.created_at <= timedelta(seconds=10.5)
    assert 0.0 <= email.score_snapshot["spam_risk"] <= 1.0
    frozen = drafts.get(db, actor, draft.id)
    assert frozen.sent_at is not None and frozen.email_id == email.id
    # One doorbell, scheduled for the end of the undo window.
    (doorbell,) = queue.get_huey(windowed).pending()
    assert doorbell.args == (email.id,)
    # Rung for the end of the window, not now (30 s earlier): the slack above is only the time
    # between computing the delay and huey stamping the eta, generous for a loaded machine.
    assert timedelta(seconds=-0.5) <= doorbell.eta - email.send_after < timedelta(seconds=5)


def test_same_key_same_request_returns_the_same_email_and_no_second_job(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    first = sending.send(db, actor, draft_id=draft.id, idempotency_key="k", settings=settings)
    again = sending.send(db, actor, draft_id=draft.id, idempotency_key="k", settings=settings)
    assert first.created and not again.created
    assert again.email.id == first.email.id
    assert email_count(db) == 1
    assert queue.queued_count(settings) == 1


def test_same_key_other_request_is_an_idempotency_conflict(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft, other = make_draft(), make_draft()
    sending.send(db, actor, draft_id=draft.id, idempotency_key="k", settings=settings)
    with pytest.raises(IdempotencyConflictError) as caught:
        sending.send(
            db, actor, draft_id=draft.id, idempotency_key="k", to_email="x@else.example", settings=settings
        )
    assert caught.value.field == "idempotency_key" and caught.value.exit_code == 2
    with pytest.raises(IdempotencyConflictError):
        sending.send(db, actor, draft_id=other.id, idempotency_key="k", settings=settings)
    assert email_count(db) == 1


def test_without_a_key_one_is_derived_from_draft_and_revision(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    first = sending.send(db, actor, draft_id=draft.id, settings=settings)
    assert first.email.idempotency_key == sending.derived_idempotency_key(draft.id, draft.revision)
    assert str(uuid.UUID(first.email.idempotency_key)) == first.email.idempotency_key
    again = sending.send(db, actor, draft_id=draft.id, settings=settings)
    assert not again.created and again.email.id == first.email.id


def test_a_sent_draft_with_a_new_key_is_refused(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    sending.send(db, actor, draft_id=draft.id, idempotency_key="a", settings=settings)
    with pytest.raises(AlreadySentError) as caught:
        sending.send(db, actor, draft_id=draft.id, idempotency_key="b", settings=settings)
    assert caught.value.exit_code == 2
    assert email_count(db) == 1


def test_a_stale_revision_is_refused(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    drafts.save(db, actor, draft.id, 2, subject="Edited", body="Edited body", prospect_id=draft.prospect_id)
    with pytest.raises(StaleRevisionError) as caught:
        sending.send(db, actor, draft_id=draft.id, revision=1, settings=settings)
    assert caught.value.field == "revision"
    assert_nothing_stored_or_enqueued(db, settings, draft)


@pytest.mark.parametrize(
    ("entry", "recipient"),
    [
        ("ana.okafor@brightwave.example", None),
        ("brightwave.example", None),
        ("brightwave.example", "ops@eu.brightwave.example"),
    ],
)
def test_a_suppressed_recipient_is_refused_and_nothing_is_stored(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    entry: str,
    recipient: str | None,
) -> None:
    suppressions.add(db, actor, entry, reason="asked not to be contacted")
    draft = make_draft()
    with pytest.raises(SuppressedRecipientError) as caught:
        sending.send(db, actor, draft_id=draft.id, to_email=recipient, settings=settings)
    assert caught.value.field == "to" and caught.value.exit_code == 2
    assert "suppression list" in caught.value.message and "asked not to be contacted" in caught.value.message
    assert_nothing_stored_or_enqueued(db, settings, draft)


def test_suppression_list_add_list_remove(db: Database, actor: Actor) -> None:
    suppressions.add(db, actor, "Bob@Example.com")
    suppressions.add(db, actor, "https://www.spam.example/about")
    suppressions.add(db, actor, "bob@example.com")  # twice: still one entry
    assert [(s.kind, s.value) for s in suppressions.list_suppressions(db, actor)] == [
        ("address", "bob@example.com"),
        ("domain", "spam.example"),
    ]
    with db.read() as session:
        assert suppressions.is_suppressed(session, actor.workspace_id, "x@mail.spam.example") is not None
        assert suppressions.is_suppressed(session, actor.workspace_id, "x@notspam.example") is None
    suppressions.remove(db, actor, "spam.example")
    with pytest.raises(NotFoundError):
        suppressions.remove(db, actor, "spam.example")
    with pytest.raises(ValidationError):
        suppressions.add(db, actor, "not a domain")


@pytest.mark.parametrize("where", ["subject", "body"])
def test_a_leftover_template_field_is_refused(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    where: str,
) -> None:
    draft = make_draft(**{where: "Hi {{first_name}}, about {{ company }}"})
    with pytest.raises(ValidationError) as caught:
        sending.send(db, actor, draft_id=draft.id, settings=settings)
    assert caught.value.field == where
    assert "{{first_name}}" in caught.value.message and "{{company}}" in caught.value.message
    assert_nothing_stored_or_enqueued(db, settings, draft)


def _raw_update(db: Database, sql: str, params: tuple) -> None:
    """Write behind the services' back (an older build, a hand edit): the send must still refuse it.
    The engine's own driver connection, so the same test runs on SQLite and PostgreSQL."""
    raw = db.writer.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql if db.dialect == "sqlite" else sql.replace("?", "%s"), params)
        raw.commit()
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("field", "sql", "to_email"),
    [
        ("subject", "UPDATE email_drafts SET subject = ?", None),
        ("to", None, "ana@brightwave.example\r\nBcc: everyone@victim.example"),
        ("to", None, "ana@brightwave.example\nBcc: everyone@victim.example"),
        ("from", "UPDATE accounts SET email = ?", None),
        ("from_name", "UPDATE accounts SET display_name = ?", None),
        ("first_name", "UPDATE prospects SET first_name = ?", None),
        ("last_name", "UPDATE prospects SET last_name = ?", None),
    ],
)
def test_cr_lf_injection_is_refused_naming_the_field(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    field: str,
    sql: str | None,
    to_email: str | None,
) -> None:
    draft = make_draft()
    if sql is not None:
        injected = (
            "sam@acme.test\r\nBcc: everyone@victim.example"
            if field == "from"
            else "Hi\r\nBcc: x@victim.example"
        )
        _raw_update(db, sql, (injected,))
    with pytest.raises(ValidationError) as caught:
        sending.send(db, actor, draft_id=draft.id, to_email=to_email, settings=settings)
    assert caught.value.field == field
    assert "line break" in caught.value.message
    assert_nothing_stored_or_enqueued(db, settings, draft)


def test_bad_addresses_and_missing_recipient_are_refused(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    with pytest.raises(ValidationError) as caught:
        sending.send(db, actor, draft_id=draft.id, to_email="not-an-address", settings=settings)
    assert caught.value.field == "to"
    orphan = make_draft(prospect_id=None)
    with pytest.raises(ValidationError) as caught:
        sending.send(db, actor, draft_id=orphan.id, settings=settings)
    assert caught.value.field == "to"
    with pytest.raises(NotFoundError):
        sending.send(db, actor, draft_id=draft.id, from_account="nobody", settings=settings)
    assert email_count(db) == 0


def test_no_account_at_all_is_a_clear_error(
    db: Database, actor: Actor, settings: Settings, make_draft: Callable[..., EmailDraft]
) -> None:
    draft = make_draft()
    with pytest.raises(ValidationError) as caught:
        sending.send(db, actor, draft_id=draft.id, settings=settings)
    assert caught.value.field == "from" and "lumina accounts add" in caught.value.message


def test_workspaces_are_isolated(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    email = sending.send(db, actor, draft_id=draft.id, idempotency_key="shared", settings=settings).email
    stranger = new_workspace(db, "Other", "other@else.test")
    with pytest.raises(NotFoundError):
        sending.send(db, stranger, draft_id=draft.id, idempotency_key="shared", settings=settings)
    with pytest.raises(NotFoundError):
        outbox.get_email(db, stranger, email.id)
    with pytest.raises(NotFoundError):
        outbox.cancel(db, stranger, email.id)
    assert outbox.list_emails(db, stranger).total == 0
    impostor = Actor(workspace_id=actor.workspace_id, user_id=stranger.user_id)
    with pytest.raises(NotFoundError) as caught:
        sending.send(db, impostor, draft_id=make_draft().id, settings=settings)
    assert caught.value.field == "user"


def test_cancel_inside_the_window_gives_the_draft_back_as_a_new_editable_one(
    db: Database,
    actor: Actor,
    windowed: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    email = sending.send(db, actor, draft_id=draft.id, settings=windowed).email
    result = outbox.cancel(db, actor, email.id)
    assert result.email.status == EmailStatus.CANCELLED
    assert [e.event_type for e in outbox.list_events(db, actor, email.id)] == ["queued", "cancelled"]
    copy = drafts.get(db, actor, result.draft_id)
    assert copy.id != draft.id and copy.sent_at is None
    assert (copy.subject, copy.body_text, copy.prospect_id) == (
        draft.subject,
        draft.body_text,
        draft.prospect_id,
    )
    assert drafts.get(db, actor, draft.id).sent_at is not None  # history stays frozen
    drafts.save(
        db, actor, copy.id, 2, subject="Better subject", body=copy.body_text, prospect_id=copy.prospect_id
    )
    with pytest.raises(InvalidStateError):
        outbox.cancel(db, actor, email.id)
    # The copy sends as a new email.
    again = sending.send(db, actor, draft_id=copy.id, settings=windowed)
    assert again.created and again.email.id != email.id


def test_a_claimed_or_sent_email_cannot_be_cancelled(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    for status in (EmailStatus.SENDING, EmailStatus.SENT):
        with db.write() as session:
            session.execute(update(Email).where(Email.id == email.id).values(status=status))
        with pytest.raises(InvalidStateError) as caught:
            outbox.cancel(db, actor, email.id)
        assert status in caught.value.message
    # Taken back from a worker that died mid-send: it may already have gone out, so no undo.
    with db.write() as session:
        session.execute(
            update(Email)
            .where(Email.id == email.id)
            .values(
                status=EmailStatus.PENDING_SEND, last_error=email_state.INTERRUPTED_PREFIX + " worker died"
            )
        )
    with pytest.raises(InvalidStateError):
        outbox.cancel(db, actor, email.id)


def test_retry_puts_a_failed_email_back_on_the_same_row(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    with pytest.raises(InvalidStateError):
        outbox.retry(db, actor, email.id, settings=settings)
    with db.write() as session:
        session.execute(
            update(Email)
            .where(Email.id == email.id)
            .values(status=EmailStatus.FAILED, attempts=1, last_error="550 no")
        )
    queued_before = queue.queued_count(settings)
    retried = outbox.retry(db, actor, email.id, settings=settings)
    assert retried.id == email.id and retried.message_id == email.message_id
    assert (retried.status, retried.attempts, retried.last_error) == (EmailStatus.PENDING_SEND, 0, None)
    assert email_count(db) == 1
    assert queue.queued_count(settings) == queued_before + 1
    _queued, event = outbox.list_events(db, actor, email.id)
    assert event.event_type == "retried" and event.event_data["previous_error"] == "550 no"


def test_list_emails_filters_and_pages(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    ids = [sending.send(db, actor, draft_id=make_draft().id, settings=settings).email.id for _ in range(5)]
    outbox.cancel(db, actor, ids[0])
    page = outbox.list_emails(db, actor, limit=2)
    assert page.total == 5 and len(page.items) == 2
    assert page.items[0].id == ids[-1]  # newest first
    assert outbox.list_emails(db, actor, status="cancelled").total == 1
    assert outbox.list_emails(db, actor, status=EmailStatus.PENDING_SEND, offset=3).items[0].id == ids[1]
    with pytest.raises(ValidationError):
        outbox.list_emails(db, actor, status="LOST")
    body = outbox.as_json(page.items[0], [])
    assert body["status"] == "PENDING_SEND" and body["events"] == [] and body["send_after"].endswith("Z")


def test_last_sent_to_counts_only_emails_that_went_or_are_going_out(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    assert outbox.last_sent_to(db, actor, "ana.okafor@brightwave.example") is None
    cancelled = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    outbox.cancel(db, actor, cancelled.id)
    assert outbox.last_sent_to(db, actor, "ana.okafor@brightwave.example") is None
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    assert outbox.last_sent_to(db, actor, "Ana.Okafor@Brightwave.example").id == email.id
    # Outside the window (emails rows are immutable, so the window moves instead of the row).
    assert outbox.last_sent_to(db, actor, "ana.okafor@brightwave.example", within_days=0) is None


def test_events_are_deduplicated_and_append_only(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    for _ in range(2):
        with db.write() as session:
            events.append_event(
                session,
                workspace_id=actor.workspace_id,
                email_id=email.id,
                event_type="opened",
                provider="smtp-relay",
                provider_event_id="evt-1",
                data={"ip": "127.0.0.1"},
            )
    _queued, event = events.list_events(db, actor, email.id)
    assert event.provider == "smtp-relay"
    with pytest.raises(ValueError), db.write() as session:
        events.append_event(
            session,
            workspace_id=actor.workspace_id,
            email_id=email.id,
            event_type="nonsense",
            provider_event_id="x",
        )
    with pytest.raises(Exception, match="append-only"), db.write() as session:
        session.execute(update(EmailEvent).values(event_type="clicked"))


def test_a_failed_enqueue_loses_nothing_the_sweep_rings_later(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = load_settings(queue_url="bogus://nowhere")
    draft = make_draft()
    result = sending.send(db, actor, draft_id=draft.id, settings=broken)
    assert result.created and result.email.status == EmailStatus.PENDING_SEND
    assert queue.queued_count(settings) == 0

    from lumina_tui.worker import tasks
    from lumina_tui.worker.provider_pool import ProviderPool

    ctx = tasks.WorkerRuntime(
        settings=settings, db=db, worker_id=tasks.new_worker_id(), providers=ProviderPool(db, settings)
    )
    report = tasks.sweep(ctx, grace_seconds=0)
    assert report.enqueued == 1 and queue.queued_count(settings) == 1


def test_the_score_is_advisory_a_broken_scorer_never_stops_a_send(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lumina_tui.ai import scoring

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(scoring, "score", broken)
    email = sending.send(db, actor, draft_id=make_draft().id, settings=settings).email
    assert email.score_snapshot == {} and email.status == EmailStatus.PENDING_SEND
