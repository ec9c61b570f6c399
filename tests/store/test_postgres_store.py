"""The store on PostgreSQL (team mode): migrations from every version, plpgsql guards, the event
log's commit-ordered `rowid`, one writer at a time, and errors that name the server, never its
password. The service suites themselves run on PostgreSQL through `store_engine` (conftest.py)."""

from __future__ import annotations

import threading

import psycopg
import pytest
from guard_rows import seed_email
from sqlalchemy import text
from sqlmodel import SQLModel

from lumina_tui.store import Database, close_all, open_database
from lumina_tui.store import migrations as mig
from lumina_tui.store.errors import StoreError
from lumina_tui.store.migrations import postgresql as pg_mig
from lumina_tui.store.postgres import WRITE_LOCK_KEY

pytestmark = pytest.mark.postgresql_only

GUARDS = {
    "emails_content_immutable",
    "emails_no_delete",
    "email_events_no_update",
    "email_events_no_delete",
    "email_events_commit_order",
    "alerts_commit_order",
}


def _plain(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for a raw psycopg connection."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _assert_guarded(url: str) -> None:
    with psycopg.connect(_plain(url)) as conn:
        names = {r[0] for r in conn.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        assert names >= GUARDS
        seed_email(conn)
        for statement in (
            "UPDATE emails SET subject = 'changed' WHERE id = 'e1'",
            "UPDATE emails SET body_text = 'changed', status = 'SENT' WHERE id = 'e1'",
            "UPDATE emails SET to_email = 'x@y.test' WHERE id = 'e1'",
            "UPDATE emails SET cc = '[\"x@y.test\"]' WHERE id = 'e1'",
            "DELETE FROM emails WHERE id = 'e1'",
            "UPDATE email_events SET event_type = 'opened'",
            "DELETE FROM email_events",
        ):
            with pytest.raises(psycopg.IntegrityError, match=r"immutable|append-only"):
                conn.execute(statement)
            conn.rollback()
        # Delivery state may change.
        conn.execute(
            "UPDATE emails SET status = 'SENT', attempts = 1, sent_at = '2026-01-02' WHERE id = 'e1'"
        )
        conn.commit()
        assert conn.execute("SELECT subject, status FROM emails").fetchone() == ("Hi", "SENT")
        assert conn.execute("SELECT count(*), min(rowid) FROM email_events").fetchone() == (1, 1)


def test_guards_on_a_fresh_database(pg_server) -> None:
    url = pg_server.new_database(migrated=False)
    db = Database(url)
    try:
        assert db.migrate() == mig.head_version()
    finally:
        db.dispose()
    _assert_guarded(url)


@pytest.mark.parametrize("start", mig.all_versions())
def test_guards_after_migrating_from_every_version(pg_server, start: int) -> None:
    url = pg_server.new_database(migrated=False)
    db = Database(url)
    try:
        mig.migrate(db.writer, target=start)
        with psycopg.connect(_plain(url)) as conn:
            assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (start,)
        assert db.migrate() == mig.head_version()
    finally:
        db.dispose()
    _assert_guarded(url)


def test_a_dropped_guard_is_put_back_at_the_next_open(pg_server) -> None:
    url = pg_server.new_database()
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("DROP TRIGGER emails_content_immutable ON emails")
        conn.execute(
            "CREATE OR REPLACE FUNCTION lumina_refuse() RETURNS trigger LANGUAGE plpgsql"
            " AS $$BEGIN RETURN NULL; END$$"
        )
    db = Database(url)
    try:
        db.migrate()
    finally:
        db.dispose()
    _assert_guarded(url)


def test_migrated_schema_matches_the_models(db) -> None:
    with psycopg.connect(_plain(db.url)) as conn:
        for table in SQLModel.metadata.sorted_tables:
            columns = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table.name,)
                )
            }
            extra = {"rowid"} if table.name in pg_mig.ORDERED_TABLES else set()
            assert columns == {c.name for c in table.columns} | extra, table.name


def test_two_processes_opening_a_new_database_at_once_migrate_it_once(pg_server) -> None:
    url = pg_server.new_database(migrated=False)
    results: list[object] = []

    def open_it() -> None:
        db = Database(url)
        try:
            results.append(db.migrate())
        except Exception as exc:  # the assertion below shows it
            results.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [mig.head_version()] * 4
    with psycopg.connect(_plain(url)) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == mig.all_versions()


def _waiting_for_lock(url: str) -> bool:
    with psycopg.connect(_plain(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s",
            (WRITE_LOCK_KEY,),
        ).fetchone()
        return bool(row and row[0])


def test_event_rowids_follow_commit_order_even_outside_the_store(db) -> None:
    """Two raw connections (no `db.write`): the second insert waits for the first commit, so the
    consumers' cursor can never see a smaller rowid appear after a larger one."""
    from polling import wait_until

    first = psycopg.connect(_plain(db.url))
    second = psycopg.connect(_plain(db.url))
    try:
        seed_email(first)  # rowid 1
        event_sql = (
            "INSERT INTO email_events (id, workspace_id, email_id, provider, provider_event_id, event_type,"
            " event_data, occurred_at, recorded_at) VALUES (%s,'w1','e1','test',%s,'sent','{}',"
            " '2026-01-01','2026-01-01') RETURNING rowid"
        )
        a_row = first.execute(event_sql, ("a", "a")).fetchone()
        assert a_row is not None
        got: dict[str, int] = {}

        def insert_second() -> None:
            row = second.execute(event_sql, ("b", "b")).fetchone()
            second.commit()
            assert row is not None
            got["b"] = row[0]

        worker = threading.Thread(target=insert_second)
        worker.start()
        wait_until(lambda: _waiting_for_lock(db.url), timeout=60)
        assert "b" not in got  # still waiting for the first transaction
        first.commit()
        worker.join(60)
        assert got["b"] > a_row[0] > 1
    finally:
        first.close()
        second.close()


def test_writes_queue_behind_each_other_and_a_long_wait_is_database_locked(pg_server) -> None:
    url = pg_server.new_database()
    db = Database(url, busy_timeout_seconds=0.5)
    holder = psycopg.connect(_plain(url))
    try:
        holder.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        with pytest.raises(StoreError) as caught, db.write() as s:
            s.execute(text("SELECT 1"))  # the write lock is taken as the transaction begins
        assert caught.value.code == "database_locked"
        holder.rollback()
        with db.write() as s:  # free again
            assert s.execute(text("SELECT 1")).scalar() == 1
    finally:
        holder.close()
        db.dispose()


def test_a_database_from_a_newer_lumina_is_refused_and_left_alone(pg_server) -> None:
    url = pg_server.new_database()
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (999, 'future')")
    close_all()
    with pytest.raises(StoreError) as caught:
        open_database(url)
    assert caught.value.code == "database_newer"
    with psycopg.connect(_plain(url)) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (999,)


def test_an_unreachable_server_is_a_clear_error_without_the_password(refused_port: int) -> None:
    url = f"postgresql+psycopg://rep:s3cret-pw@127.0.0.1:{refused_port}/lumina"
    with pytest.raises(StoreError) as caught:
        open_database(url)
    assert caught.value.code == "database_unavailable"
    assert "s3cret-pw" not in str(caught.value)
    assert f"127.0.0.1:{refused_port}" in str(caught.value)
