"""A full disk (SQLite's max_page_count, issue 14 point 4): a draft save that cannot fit fails with
the store's documented error naming the full disk, and the last saved revision is intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from lumina_tui.services import drafts, prospects
from lumina_tui.services.actors import local_actor
from lumina_tui.services.errors import LuminaError
from lumina_tui.store import Database

# About SQLite's own file limit (max_page_count): not run again on PostgreSQL.
pytestmark = [pytest.mark.chaos, pytest.mark.sqlite_only]


def test_a_full_database_refuses_the_save_and_keeps_the_last_revision(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'full.db'}")
    db.migrate()
    actor = local_actor(db)
    prospect = prospects.create(db, actor, email="ana@brightwave.example", first_name="Ana")
    saved = drafts.create(db, actor, prospect_id=prospect.id, subject="Hello", body="Hi Ana")
    db.dispose()
    with sqlite3.connect(db.path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()

    def cap(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")  # type: ignore[attr-defined]

    event.listen(db.writer, "connect", cap)
    with pytest.raises(LuminaError) as full:
        drafts.save(db, actor, saved.id, saved.revision + 1, subject="Hello",
                    body="A long body. " * 60_000, prospect_id=prospect.id)
    assert "full" in full.value.message.lower()
    kept = drafts.get(db, actor, saved.id)
    assert (kept.revision, kept.body_text) == (saved.revision, "Hi Ana")
    db.dispose()
