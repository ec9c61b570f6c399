"""The prospect search's trigram index (migration 0010) answers exactly what the LIKE scan did.

The index is kept in step by triggers: creates, edits and a table-rebuilding migration of
`prospects` (which drops triggers; they are re-installed and the index rebuilt) must all leave a
search finding the same prospects as a plain LIKE scan over the table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumina_tui.services import prospects
from lumina_tui.services.actors import Actor, local_actor
from lumina_tui.store import Database
from lumina_tui.store import migrations as mig

ALPHABET = "abcOKAFor 50%_\"*-.@()"


def _found(db: Database, actor: Actor, search: str) -> list[str]:
    return [p.email for p in prospects.list_prospects(db, actor, search=search, limit=1000).items]


def _scanned(db: Database, actor: Actor, search: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The same search answered by the LIKE scan alone (the path other databases take)."""
    with monkeypatch.context() as m:
        m.setattr(prospects, "_has_trigram_index", lambda _db: False)
        return _found(db, actor, search)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(search=st.text(st.sampled_from(ALPHABET), max_size=12))
def test_the_index_finds_what_the_scan_finds(
    db: Database, actor: Actor, monkeypatch: pytest.MonkeyPatch, search: str
) -> None:
    if not prospects.list_prospects(db, actor, limit=1).total:
        for i, (first, company) in enumerate(
            [("Ana", "Okafor & Co"), ("Ben", "50% Off Ltd"), ("Okafor", "abc_def"),
             ("Chloe", 'The "Quoted" Inc'), ("Dev", "a*b-c (OR) d"), ("eve", "OKAFOR.example")]
        ):
            prospects.create(db, actor, email=f"p{i}.{first.lower()}@co{i}.example", first_name=first,
                             last_name="Okafor" if i % 2 else "Smith", company=company)
    assert _found(db, actor, search) == _scanned(db, actor, search, monkeypatch)


def test_edits_move_a_prospect_in_the_index(db: Database, actor: Actor) -> None:
    ana = prospects.create(db, actor, email="ana@okafor.example", first_name="Ana", company="Northwind")
    assert _found(db, actor, "northwind") == ["ana@okafor.example"]
    prospects.update(db, actor, ana.id, company="Contoso", email="ana@contoso.example")
    assert _found(db, actor, "northwind") == []
    assert _found(db, actor, "okafor") == []
    assert _found(db, actor, "contoso") == ["ana@contoso.example"]
    assert _found(db, actor, "ana contoso") == ["ana@contoso.example"]


def test_a_search_is_text_not_an_fts_query(db: Database, actor: Actor) -> None:
    prospects.create(db, actor, email="x@example.com", company='NEAR "x" OR y*')
    for search in ['"', 'NEAR "x"', "OR y*", "x AND", "-- ;", "^abc", "a:b"]:
        prospects.list_prospects(db, actor, search=search)  # no FTS syntax error
    assert _found(db, actor, 'near "x" or') == ["x@example.com"]


def test_the_index_survives_a_table_rebuilding_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rebuilding `prospects` drops its triggers: migrate re-installs them and rebuilds the index."""
    db = Database(f"sqlite:///{tmp_path / 'rebuild.db'}")
    db.migrate()
    actor = local_actor(db)
    prospects.create(db, actor, email="ana@example.com", company="Northwind")
    create_sql = sqlite3.connect(db.path).execute(
        "SELECT sql FROM sqlite_master WHERE name = 'prospects'").fetchone()[0]

    def rebuild(conn: sqlite3.Connection) -> None:
        conn.execute(create_sql.replace("CREATE TABLE prospects", "CREATE TABLE prospects_new", 1))
        conn.execute("INSERT INTO prospects_new SELECT * FROM prospects")
        conn.execute("DROP TABLE prospects")
        conn.execute("ALTER TABLE prospects_new RENAME TO prospects")
        # A write made while the triggers are gone: the rebuild must bring it into the index.
        conn.execute("UPDATE prospects SET company = 'Contoso'")

    nxt = mig.head_version() + 1
    monkeypatch.setitem(mig.PYTHON_STEPS, nxt, ("rebuild_prospects", rebuild))
    assert db.migrate() == nxt
    triggers = {r[0] for r in sqlite3.connect(db.path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(mig.search_index.TRIGGERS) <= triggers
    assert _found(db, actor, "northwind") == []
    assert _found(db, actor, "contoso") == ["ana@example.com"]
    prospects.create(db, actor, email="ben@example.com", company="Contoso")
    assert _found(db, actor, "contoso") == ["ana@example.com", "ben@example.com"]
