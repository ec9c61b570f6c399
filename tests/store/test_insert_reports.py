"""An `INSERT ... ON CONFLICT DO NOTHING` tells its caller whether it created the row, on both
engines (psycopg's rowcount for an upsert is not the rows inserted: callers read RETURNING)."""

from __future__ import annotations

import pytest

from lumina_tui.services import demo, suppressions
from lumina_tui.store import new_id, utcnow


def test_a_suppression_is_new_once(db, actor) -> None:
    with db.write() as session:
        first = suppressions.suppress_in(session, actor.workspace_id, "ana@example.com", "hard bounce")
        again = suppressions.suppress_in(session, actor.workspace_id, "ANA@example.com", "hard bounce")
    assert (first, again) == (True, False)
    assert [row.value for row in suppressions.list_suppressions(db, actor)] == ["ana@example.com"]


def test_the_demo_seed_counts_what_it_created_and_a_second_seed_nothing(db, actor) -> None:
    created = demo.seed(db, actor).created
    assert created["prospects"] == 27 and created["templates"] == 3
    assert not demo.seed(db, actor).changed


def test_inserted_says_whether_the_upsert_created_the_row_on_both_engines(db, actor) -> None:
    from sqlalchemy import text

    from lumina_tui.store.models import Suppression
    from lumina_tui.store.upsert import insert, inserted

    def core(value: str, reason: str) -> object:
        return (
            insert(session, Suppression)
            .values(
                id=new_id(),
                workspace_id=actor.workspace_id,
                kind="address",
                value=value,
                reason=reason,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "value"])
        )

    raw = text(
        "INSERT INTO suppressions (id, workspace_id, kind, value, reason, created_at)"
        " VALUES (:id, :w, 'address', :v, 'raw', :at) ON CONFLICT (workspace_id, value) DO NOTHING"
    )
    with db.write() as session:
        assert inserted(session, core("bo@example.com", "first")) is True
        assert inserted(session, core("bo@example.com", "second")) is False
        params = {"w": actor.workspace_id, "v": "cy@example.com", "at": utcnow()}
        assert inserted(session, raw, {**params, "id": new_id()}) is True
        assert inserted(session, raw, {**params, "id": new_id()}) is False
    kept = {row.value: row.reason for row in suppressions.list_suppressions(db, actor)}
    assert kept == {"bo@example.com": "first", "cy@example.com": "raw"}


def test_rows_changed_refuses_an_upsert_so_no_caller_reads_its_rowcount(db, actor) -> None:
    from sqlalchemy import text

    from lumina_tui.store.db import rows_changed

    with db.write() as session:
        upsert = session.execute(
            text(
                "INSERT INTO suppressions (id, workspace_id, kind, value, reason, created_at)"
                " VALUES (:id, :w, 'address', 'dee@example.com', '', :at)"
                " ON CONFLICT (workspace_id, value) DO NOTHING"
            ),
            {"id": new_id(), "w": actor.workspace_id, "at": utcnow()},
        )
        with pytest.raises(TypeError, match="inserted"):
            rows_changed(upsert)
        removed = session.execute(text("DELETE FROM suppressions WHERE value = 'dee@example.com'"))
        assert rows_changed(removed) == 1  # a plain DELETE (or UPDATE) still counts


@pytest.mark.sqlite_only  # the worker's sqlite3 fast path
def test_the_sqlite3_event_append_says_whether_it_recorded(db, settings) -> None:
    import sqlite3

    from guard_rows import seed_email

    from lumina_tui.services import events

    seeder = sqlite3.connect(settings.db_path)
    try:
        seed_email(seeder)  # email e1 of workspace w1, with its event "e1:sent"
    finally:
        seeder.close()

    def append(event_id: str) -> bool:
        with db.write_sqlite() as conn:
            return events.append_event_sqlite(
                conn, workspace_id="w1", email_id="e1", event_type="replied", provider_event_id=event_id
            )

    assert (append("e1:reply"), append("e1:reply"), append("e1:sent")) == (True, False, False)
