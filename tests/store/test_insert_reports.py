"""An `INSERT ... ON CONFLICT DO NOTHING` tells its caller whether it created the row, on both
engines (psycopg's rowcount for an upsert is not the rows inserted: callers read RETURNING)."""

from __future__ import annotations

from lumina_tui.services import demo, suppressions


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
