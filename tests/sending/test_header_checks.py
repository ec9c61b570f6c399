"""Headers are checked when a value comes in and again at send, never found broken by the worker.

A NUL or ESC in a first or last name (at `prospects add`, at CSV import, and at send for a value
stored behind the services' back), U+2028 / U+0085 / U+2029 in a subject, and a non-ASCII mailbox
name through a provider without SMTPUTF8 are refused naming the field, with no email row and no
doorbell; a provider that carries SMTPUTF8 delivers `üser@...` for real.
"""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lumina_tui import queue
from lumina_tui.cli import main
from lumina_tui.config import Settings
from lumina_tui.services import drafts, prospect_import, prospects, sending
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import ValidationError
from lumina_tui.store import Database
from lumina_tui.store.models import Account, Email, EmailDraft, Prospect
from lumina_tui.worker import tasks


def email_count(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(Email)).scalar_one())


def assert_nothing_sent(db: Database, settings: Settings, draft: EmailDraft) -> None:
    assert email_count(db) == 0
    assert queue.queued_count(settings) == 0
    with db.read() as session:
        assert session.get(EmailDraft, draft.id).sent_at is None


def raw_update(db: Database, sql: str, params: tuple) -> None:
    """Write behind the services' back (an older build, a hand edit)."""
    conn = sqlite3.connect(db.path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["A\x00B", "Ana\x1b[31m", "Ana\u2028Bob", "Ana\x85Bob"])
def test_prospects_add_refuses_control_characters_in_a_name(db: Database, name: str) -> None:
    for option, field in (("--first-name", "first_name"), ("--last-name", "last_name")):
        result = CliRunner().invoke(
            main, ["prospects", "add", "--email", "ana@brightwave.example", option, name, "--json"]
        )
        assert result.exit_code == 2, result.output
        error = json.loads(result.stderr)["error"]
        assert error["field"] == field
        assert "not allowed" in error["message"]
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Prospect)).scalar_one() == 0


def test_csv_import_rejects_a_row_with_a_nul_in_a_name_and_keeps_the_rest(db: Database, actor: Actor) -> None:
    csv = (
        b"Email,First Name,Last Name\n"
        b"ana@brightwave.example,Ana,Okafor\n"
        b"bob@brightwave.example,B\x00ob,Stone\n"
        b"cy@brightwave.example,Cy,Es\x1bcape\n"
        b"dee@brightwave.example,Dee,Lane\n"
    )
    report = prospect_import.import_csv(db, actor, _write(csv))
    assert report.imported == 2
    assert [(row.line, row.email) for row in report.rejected] == [
        (3, "bob@brightwave.example"),
        (4, "cy@brightwave.example"),
    ]
    assert report.rejected[0].reason.startswith("First Name: a control character (U+0000)")
    assert report.rejected[1].reason.startswith("Last Name: a control character (U+001B)")
    stored = {p.email for p in prospects.list_prospects(db, actor).items}
    assert stored == {"ana@brightwave.example", "dee@brightwave.example"}


def _write(data: bytes) -> Path:
    import tempfile

    handle = tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False)  # noqa: SIM115
    with handle:
        handle.write(data)
    return Path(handle.name)


@pytest.mark.parametrize(
    ("field", "sql", "value"),
    [
        ("first_name", "UPDATE prospects SET first_name = ?", "A\x00B"),
        ("last_name", "UPDATE prospects SET last_name = ?", "Okafor\x07"),
        ("subject", "UPDATE email_drafts SET subject = ?", "Quick question\u2028Bcc: x@victim.example"),
        ("subject", "UPDATE email_drafts SET subject = ?", "Quick question\x85about routes"),
        ("subject", "UPDATE email_drafts SET subject = ?", "Quick\u2029question"),
        ("from_name", "UPDATE accounts SET display_name = ?", "Sam\x00Müller"),
    ],
)
def test_send_refuses_what_the_message_policy_would_refuse(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
    field: str,
    sql: str,
    value: str,
) -> None:
    draft = make_draft()
    raw_update(db, sql, (value,))
    with pytest.raises(ValidationError) as caught:
        sending.send(db, actor, draft_id=draft.id, settings=settings)
    assert caught.value.field == field
    assert "not allowed" in caught.value.message
    assert_nothing_sent(db, settings, draft)


def test_a_subject_with_a_line_separator_is_blocked_by_the_review_and_the_send(
    db: Database,
    actor: Actor,
    settings: Settings,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    from lumina_tui.services.send_review import build_review

    draft = make_draft(subject="Hello\u2028there")  # a draft may hold it while it is written
    review = build_review(db, actor, settings, draft.id, score={"spam_risk": 0.1, "reply_probability": 0.3})
    assert not review.can_send
    assert any("subject" in b and "U+2028" in b for b in review.blockers)
    with pytest.raises(ValidationError) as caught:
        sending.send(db, actor, draft_id=draft.id, settings=settings)
    assert caught.value.field == "subject" and "U+2028" in caught.value.message
    assert_nothing_sent(db, settings, draft)
    with pytest.raises(ValidationError):  # a line break never even reaches a draft
        drafts.save(db, actor, draft.id, draft.revision + 1, subject="Hello\nBcc: x@y.example")


def test_a_non_ascii_mailbox_needs_a_provider_with_smtputf8(
    db: Database,
    actor: Actor,
    settings: Settings,
    smtp_account: Account,
    maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    with pytest.raises(ValidationError) as caught:
        sending.send(
            db, actor, draft_id=draft.id, to_email="üser@example.com", from_account=smtp_account.id,
            settings=settings,
        )  # fmt: skip
    assert caught.value.field == "to" and "SMTPUTF8" in caught.value.message
    assert_nothing_sent(db, settings, draft)

    # The local outbox carries UTF-8 headers: the same address goes out, and parses back.
    sent = sending.send(
        db, actor, draft_id=draft.id, to_email="üser@example.com", from_account=maildir_account.id,
        settings=settings,
    ).email  # fmt: skip
    ctx = tasks.WorkerRuntime(
        settings=settings, db=db, worker_id=tasks.new_worker_id(), providers=_pool(db, settings)
    )
    try:
        assert tasks.send_email(ctx, sent.id) == "sent"
    finally:
        ctx.providers.close_all()
    (path,) = [p for p in (settings.outbox_dir / "new").iterdir()]
    data = path.read_bytes()
    assert "üser@example.com".encode() in data  # RFC 6532: the header is UTF-8, not an encoded word
    message = email.message_from_string(data.decode("utf-8"), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "üser@example.com"


def _pool(db: Database, settings: Settings):
    from lumina_tui.worker.provider_pool import ProviderPool

    return ProviderPool(db, settings)
