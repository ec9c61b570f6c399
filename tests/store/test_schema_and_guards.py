"""The schema matches the models, and the immutability guards hold on fresh and migrated stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from guard_rows import seed_email
from sqlmodel import SQLModel

from lumina_tui.store import (
    Database,
    models,  # noqa: F401 - registers the tables
)
from lumina_tui.store import migrations as mig

# SQLite files and sqlite_master; the PostgreSQL store has its own in test_postgres_store.py.
pytestmark = pytest.mark.sqlite_only

GUARDS = {"emails_content_immutable", "emails_no_delete", "email_events_no_update", "email_events_no_delete"}


def _assert_guarded(path: Path) -> None:
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert names >= GUARDS
    seed_email(conn)
    for statement in (
        "UPDATE emails SET subject = 'changed' WHERE id = 'e1'",
        "UPDATE emails SET body_text = 'changed', status = 'SENT' WHERE id = 'e1'",
        "UPDATE emails SET to_email = 'x@y.test' WHERE id = 'e1'",
        "DELETE FROM emails WHERE id = 'e1'",
        "UPDATE email_events SET event_type = 'opened'",
        "DELETE FROM email_events",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(statement)
        conn.rollback()
    # Delivery state may change.
    conn.execute("UPDATE emails SET status = 'SENT', attempts = 1, sent_at = '2026-01-02' WHERE id = 'e1'")
    conn.commit()
    assert conn.execute("SELECT subject, status FROM emails").fetchone() == ("Hi", "SENT")
    assert conn.execute("SELECT count(*) FROM email_events").fetchone() == (1,)
    conn.close()


def test_guards_on_a_fresh_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert db.migrate() == mig.head_version()
    _assert_guarded(db.path)


@pytest.mark.parametrize("start", mig.all_versions())
def test_guards_after_migrating_from_every_version(tmp_path: Path, start: int) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    from lumina_tui.store.migrations import migrate

    migrate(db.writer, target=start)
    assert db.migrate() == mig.head_version()
    _assert_guarded(db.path)


def test_a_table_rebuilding_migration_does_not_lose_the_guards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQLite rebuild dance (new table, copy, drop, rename) drops triggers; migrate reinstalls them."""
    db = Database(f"sqlite:///{tmp_path / 'rebuild.db'}")
    db.migrate()
    create_sql = (
        sqlite3.connect(db.path).execute("SELECT sql FROM sqlite_master WHERE name = 'emails'").fetchone()[0]
    )

    def rebuild(conn: sqlite3.Connection) -> None:
        conn.execute(create_sql.replace("CREATE TABLE emails", "CREATE TABLE emails_new", 1))
        conn.execute("INSERT INTO emails_new SELECT * FROM emails")
        conn.execute("DROP TABLE emails")
        conn.execute("ALTER TABLE emails_new RENAME TO emails")

    nxt = mig.head_version() + 1
    monkeypatch.setitem(mig.PYTHON_STEPS, nxt, ("rebuild_emails", rebuild))
    assert db.migrate() == nxt
    _assert_guarded(db.path)


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'cols.db'}")
    db.migrate()
    conn = sqlite3.connect(db.path)
    for table in SQLModel.metadata.sorted_tables:
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table.name})")}
        assert columns == {c.name for c in table.columns}, table.name


def test_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    db.migrate()
    with db.reader.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_two_migrations_with_one_number_are_refused(tmp_path: Path, monkeypatch) -> None:
    """Parallel branches each adding "the next" migration must not let one silently replace the other."""
    from lumina_tui.store import migrations

    for name in ("0002_first.sql", "0002_second.sql"):
        (tmp_path / name).write_text("SELECT 1;", encoding="utf-8")
    monkeypatch.setattr(migrations, "HERE", tmp_path)
    with pytest.raises(RuntimeError, match="two migrations share number 0002"):
        migrations.sql_migrations()
