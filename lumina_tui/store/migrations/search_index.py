"""The prospect search index's triggers, re-installed (and the index rebuilt) after every migration run.

Migration 0010 creates `prospect_search` (FTS5, trigram) and `prospect_search_keys` (prospect id ->
the FTS rowid). These triggers keep both in step with `prospects` inside the same transaction as
the write, so a search never sees a prospect the table does not hold, or misses one it does.
A table-rebuilding migration of `prospects` would silently drop them (as it drops the guards), so
`install_search_index` runs after every migration run: when any trigger is missing or differs, it
recreates them all and rebuilds the index from `prospects`, since writes made without the
triggers are not in it.
"""

from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger(__name__)

COLUMNS = ("first_name", "last_name", "email", "company", "job_title")
_COLS = ", ".join(COLUMNS)
_NEW = ", ".join(f"NEW.{c}" for c in COLUMNS)
_KEY_OF = "(SELECT id FROM prospect_search_keys WHERE prospect_id = {0}.id)"

TRIGGERS: dict[str, str] = {
    "prospect_search_insert": (
        "CREATE TRIGGER prospect_search_insert AFTER INSERT ON prospects FOR EACH ROW BEGIN "
        "INSERT OR IGNORE INTO prospect_search_keys (prospect_id) VALUES (NEW.id); "
        f"INSERT INTO prospect_search (rowid, {_COLS}) VALUES ({_KEY_OF.format('NEW')}, {_NEW}); END"
    ),
    "prospect_search_update": (
        f"CREATE TRIGGER prospect_search_update AFTER UPDATE OF id, {_COLS} ON prospects FOR EACH ROW BEGIN "
        f"DELETE FROM prospect_search WHERE rowid = {_KEY_OF.format('OLD')}; "
        "UPDATE prospect_search_keys SET prospect_id = NEW.id WHERE prospect_id = OLD.id; "
        f"INSERT INTO prospect_search (rowid, {_COLS}) VALUES ({_KEY_OF.format('NEW')}, {_NEW}); END"
    ),
    "prospect_search_delete": (
        "CREATE TRIGGER prospect_search_delete AFTER DELETE ON prospects FOR EACH ROW BEGIN "
        f"DELETE FROM prospect_search WHERE rowid = {_KEY_OF.format('OLD')}; "
        "DELETE FROM prospect_search_keys WHERE prospect_id = OLD.id; END"
    ),
}


def has_search_index(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
        "('prospect_search', 'prospect_search_keys')"
    ).fetchone()
    return int(row[0]) == 2


def rebuild(conn: sqlite3.Connection) -> None:
    """Refill the index from `prospects` (inside the caller's transaction)."""
    conn.execute("DELETE FROM prospect_search")
    conn.execute("DELETE FROM prospect_search_keys")
    conn.execute("INSERT INTO prospect_search_keys (prospect_id) SELECT id FROM prospects")
    conn.execute(
        f"INSERT INTO prospect_search (rowid, {_COLS}) "
        f"SELECT k.id, {', '.join('p.' + c for c in COLUMNS)} "
        "FROM prospect_search_keys k JOIN prospects p ON p.id = k.prospect_id"
    )


def install_search_index(conn: sqlite3.Connection) -> list[str]:
    """Recreate missing or outdated triggers and rebuild the index if any was; returns their names.

    The usual case (all in place) is a plain read, like `install_guards`.
    """
    if not has_search_index(conn):
        return []
    existing = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    if all(existing.get(name) == sql for name, sql in TRIGGERS.items()):
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        existing = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        fixed = [name for name, sql in TRIGGERS.items() if existing.get(name) != sql]
        if fixed:
            for name, sql in TRIGGERS.items():
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
                conn.execute(sql)
            rebuild(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if fixed:
        log.info("installed the prospect search index (%s) and rebuilt it", ", ".join(fixed))
    return fixed
