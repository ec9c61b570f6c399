"""The send on SQLite's own connection stores exactly what the ORM path stores (issue 14 point 3).

On SQLite `sending.send` runs its reads, rules and writes on the sqlite3 connection itself
(`Database.write_sqlite`); elsewhere (PostgreSQL, team mode) through the ORM. Both paths share the
rule code; these tests hold the two to the same rows, byte for byte as stored, the same returned
objects and the same refusals, and the raw model reader to what the ORM reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import select

from lumina_tui.config import Settings, load_settings
from lumina_tui.services import accounts, company_data, drafts, sending, suppressions
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, SuppressedRecipientError
from lumina_tui.store import Database
from lumina_tui.store.models import (
    Account,
    CompanyData,
    Email,
    EmailDraft,
    Prospect,
    Suppression,
    UserPreferences,
)
from lumina_tui.store.sqlite_rows import select_model

MOMENT = datetime(2026, 12, 3, 19, 30, 0, 123456)


@contextmanager
def orm_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The engine-generic ORM path, on this same SQLite file (what PostgreSQL runs)."""
    with monkeypatch.context() as patch:
        patch.setattr(Database, "is_sqlite", property(lambda self: False))
        yield


def stored(db: Database, table: str, where: str, params: tuple[Any, ...]) -> dict[str, Any]:
    """A row as SQLite holds it (text timestamps, JSON text): what the other path must read back."""
    assert db.file is not None
    conn = sqlite3.connect(db.file)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute(f"SELECT * FROM {table} WHERE {where}", params).fetchone()
        assert row is not None
        return dict(row)
    finally:
        conn.close()


@pytest.fixture
def windowed(settings: Settings) -> Settings:
    return load_settings(undo_window_seconds=10)


@pytest.fixture
def rich_prospect(db: Database, actor: Actor, prospect: Prospect) -> Prospect:
    """A prospect whose company, preferences and tracking feed the snapshot and the score."""
    with db.write() as session:
        company_data.upsert(
            session, actor, "brightwave.example", {"name": "Brightwave Logistics", "industry": "Logistics"},
            metadata={"employees": 120},
        )
    return prospect


def test_both_paths_store_the_same_email_event_and_draft_mark(
    db: Database,
    actor: Actor,
    windowed: Settings,
    maildir_account: Account,
    rich_prospect: Prospect,
    make_draft: Callable[..., EmailDraft],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lean_draft, orm_draft = make_draft(), make_draft()
    lean = sending.send(
        db, actor, draft_id=lean_draft.id, idempotency_key="k-lean", accepted_suggestion_ids=["b", "a"],
        settings=windowed, clock=lambda: MOMENT,
    )
    with orm_path(monkeypatch):
        orm = sending.send(
            db, actor, draft_id=orm_draft.id, idempotency_key="k-orm", accepted_suggestion_ids=["b", "a"],
            settings=windowed, clock=lambda: MOMENT,
        )
    assert lean.created and orm.created

    differ = {"id", "draft_id", "idempotency_key", "request_fingerprint", "message_id"}
    lean_row = stored(db, "emails", "id = ?", (lean.email.id,))
    orm_row = stored(db, "emails", "id = ?", (orm.email.id,))
    assert {k: v for k, v in lean_row.items() if k not in differ} == {
        k: v for k, v in orm_row.items() if k not in differ
    }
    assert lean_row["score_snapshot"] != "{}"  # the score and the company were really there
    assert "Brightwave Logistics" in lean_row["prospect_snapshot"]
    assert lean_row["message_id"] == f"<{lean.email.id}@acme.test>"

    # What each call handed back is what a later read of the row gives.
    for result in (lean, orm):
        with db.read() as session:
            again = session.get(Email, result.email.id)
        assert again is not None and again.model_dump() == result.email.model_dump()

    lean_event = stored(db, "email_events", "email_id = ?", (lean.email.id,))
    orm_event = stored(db, "email_events", "email_id = ?", (orm.email.id,))
    assert lean_event["event_type"] == orm_event["event_type"] == "queued"
    assert lean_event["event_data"] == orm_event["event_data"]
    assert lean_event["occurred_at"] == orm_event["occurred_at"] == "2026-12-03 19:30:00.123456"

    for draft, result in ((lean_draft, lean), (orm_draft, orm)):
        mark = stored(db, "email_drafts", "id = ?", (draft.id,))
        assert mark["email_id"] == result.email.id
        assert len(mark["sent_at"]) == len("2026-12-03 19:30:00.123456")


def test_both_paths_refuse_alike_and_write_nothing(
    db: Database,
    actor: Actor,
    windowed: Settings,
    maildir_account: Account,
    prospect: Prospect,
    make_draft: Callable[..., EmailDraft],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suppressions.add(db, actor, "brightwave.example", reason="asked us to stop")
    draft = make_draft()
    refusals = []
    for path in ("lean", "orm"):
        with orm_path(monkeypatch) if path == "orm" else nullcontext():
            with pytest.raises(SuppressedRecipientError) as suppressed:
                sending.send(db, actor, draft_id=draft.id, settings=windowed)
            with pytest.raises(NotFoundError) as no_account:
                sending.send(db, actor, draft_id=draft.id, from_account="nobody", settings=windowed)
        refusals.append((str(suppressed.value), suppressed.value.field, str(no_account.value)))
    assert refusals[0] == refusals[1]
    assert "asked us to stop" in refusals[0][0]
    with db.read() as session:
        assert session.execute(select(Email)).first() is None
        again = session.get(EmailDraft, draft.id)
    assert again is not None and again.sent_at is None


def test_the_raw_reader_reads_what_the_orm_reads(
    db: Database, actor: Actor, maildir_account: Account, rich_prospect: Prospect,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    suppressions.add(db, actor, "nobody@elsewhere.example", reason="bounced")
    accounts.make_default(db, actor, maildir_account.id)
    assert db.file is not None
    cases: list[tuple[type[Any], str, tuple[Any, ...]]] = [
        (EmailDraft, "id = ?", (draft.id,)),
        (Prospect, "id = ?", (rich_prospect.id,)),
        (CompanyData, "domain = ?", ("brightwave.example",)),
        (Account, "id = ?", (maildir_account.id,)),
        (UserPreferences, "user_id = ?", (actor.user_id,)),
        (Suppression, "value = ?", ("nobody@elsewhere.example",)),
    ]
    with db.write_sqlite() as conn:
        raw = [select_model(conn, model, where, params) for model, where, params in cases]
    with db.read() as session:
        for (model, where, params), found in zip(cases, raw, strict=True):
            column = where.split(" ")[0]
            expected = session.execute(
                select(model).where(getattr(model, column) == params[0])
            ).scalar_one()
            assert found is not None, model
            assert found.model_dump() == expected.model_dump(), model
    company = raw[2]
    assert isinstance(company, CompanyData) and company.extra == {"employees": 120}


def test_the_review_rehearsal_writes_nothing(
    db: Database, actor: Actor, windowed: Settings, maildir_account: Account,
    make_draft: Callable[..., EmailDraft],
) -> None:
    draft = make_draft()
    before = stored(db, "email_drafts", "id = ?", (draft.id,))
    sending.prepare_to_send(windowed, db, actor, draft_id=draft.id, revision=draft.revision)
    assert stored(db, "email_drafts", "id = ?", (draft.id,)) == before
    with db.read() as session:
        assert session.execute(select(Email)).first() is None
    assert drafts.get(db, actor, draft.id).sent_at is None
