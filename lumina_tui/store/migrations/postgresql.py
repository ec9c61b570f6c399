"""The migration runner and the immutability guards on PostgreSQL (team mode).

The numbered `.sql` files stay the one source of truth: they are written in SQLite's dialect, and
`to_postgres` rewrites the little that differs (SQLite's DATETIME is TIMESTAMP here; JSON columns
are JSONB, which has equality, so a guard can compare old and new values and a query may use
DISTINCT). `PG_EXTRA` adds what only PostgreSQL needs, per version:

- FTS5 virtual tables are SQLite's own and are left out (`_SQLITE_ONLY`).
- `email_events.rowid` and `alerts.rowid`: SQLite gives every row a rowid in commit order (one
  writer at a time), and the event log's consumers and the alert feed use it as their cursor. Here
  it is an explicit column that a BEFORE INSERT trigger fills from a sequence *after* taking the
  store's write lock (`postgres.WRITE_LOCK_KEY`), so numbers are handed out in commit order too and
  a reader never sees a smaller number appear later. The same query text then runs on both engines.

Each version is applied in its own transaction holding the write lock, so two processes opening a
new database at once apply it once. The guards are plpgsql triggers, checked after every run and
re-created when missing or out of date, like the SQLite ones.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from lumina_tui.store.migrations import (
    PYTHON_STEPS,
    all_versions,
    head_version,
    split_statements,
    sql_migrations,
)
from lumina_tui.store.models import EMAIL_MUTABLE_COLUMNS
from lumina_tui.store.postgres import WRITE_LOCK_KEY

log = logging.getLogger(__name__)

_REWRITES = [
    (re.compile(r"\bDATETIME\b"), "TIMESTAMP"),
    (re.compile(r"\bJSON\b"), "JSONB"),
]

# SQLite-only statements left out on PostgreSQL: FTS5 virtual tables (prospect search falls back
# to a plain scan there, services/prospects.py).
_SQLITE_ONLY = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE", re.IGNORECASE)

# Tables whose rows carry a commit-ordered `rowid` (see the module docstring).
ORDERED_TABLES = ("email_events", "alerts")


def _ordered(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ADD COLUMN rowid BIGINT",
        f"CREATE SEQUENCE {table}_rowid_seq OWNED BY {table}.rowid",
        f"CREATE UNIQUE INDEX ix_{table}_rowid ON {table} (rowid)",
    ]


PG_EXTRA: dict[int, list[str]] = {1: _ordered("email_events"), 5: _ordered("alerts")}


def to_postgres(statement: str) -> str:
    """One SQLite-dialect migration statement as PostgreSQL runs it."""
    for pattern, replacement in _REWRITES:
        statement = pattern.sub(replacement, statement)
    return statement


def _lock(conn: Any) -> None:
    conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def current_version(conn: Any) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'))"
    )
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _read_version(conn: Any) -> int:
    """The schema version without creating anything (0: a new database)."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def apply_version(conn: Any, version: int) -> None:
    """Apply one migration in its own transaction under the write lock (no-op if another did)."""
    if version in PYTHON_STEPS:
        raise RuntimeError(
            f"migration {version:04d} is a Python step written for SQLite; it needs a PostgreSQL "
            "variant before team mode can run it"
        )
    name, script = sql_migrations()[version]
    with conn.transaction():
        _lock(conn)
        if current_version(conn) >= version:
            return
        for statement in split_statements(script):
            if not _SQLITE_ONLY.match(statement):
                conn.execute(to_postgres(statement))
        for statement in PG_EXTRA.get(version, []):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)", (version, name))
    log.info("schema migrated to version %s (%s) on PostgreSQL", version, name)


# -- guards ----------------------------------------------------------------------------------------


def _functions(conn: Any) -> dict[str, str]:
    """plpgsql function name -> body, as they must be for the current columns of `emails`."""
    columns = [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'emails' ORDER BY ordinal_position"
        ).fetchall()
    ]
    content = [c for c in columns if c not in EMAIL_MUTABLE_COLUMNS]
    changed = " OR ".join(f'NEW."{c}" IS DISTINCT FROM OLD."{c}"' for c in content)
    return {
        "lumina_emails_content_immutable": (
            f"\nBEGIN\n  IF {changed} THEN\n"
            "    RAISE EXCEPTION 'emails rows are immutable: only delivery status may change'"
            " USING ERRCODE = '23000';\n  END IF;\n  RETURN NEW;\nEND\n"
        ),
        "lumina_refuse": ("\nBEGIN\n  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = '23000';\nEND\n"),
        "lumina_commit_order": (
            f"\nBEGIN\n  PERFORM pg_advisory_xact_lock({WRITE_LOCK_KEY});\n"
            "  NEW.rowid := nextval(TG_ARGV[0]::regclass);\n  RETURN NEW;\nEND\n"
        ),
    }


def _triggers(conn: Any) -> dict[str, tuple[str, str]]:
    """Trigger name -> (table, the rest of its CREATE TRIGGER statement after the name), for the
    tables this schema version has (an old version has no `alerts` yet)."""
    found = {
        "emails_content_immutable": (
            "emails",
            "BEFORE UPDATE ON emails FOR EACH ROW EXECUTE FUNCTION lumina_emails_content_immutable()",
        ),
        "emails_no_delete": (
            "emails",
            "BEFORE DELETE ON emails FOR EACH ROW EXECUTE FUNCTION "
            "lumina_refuse('emails rows are immutable and cannot be deleted')",
        ),
        "email_events_no_update": (
            "email_events",
            "BEFORE UPDATE ON email_events FOR EACH ROW EXECUTE FUNCTION "
            "lumina_refuse('email_events is append-only')",
        ),
        "email_events_no_delete": (
            "email_events",
            "BEFORE DELETE ON email_events FOR EACH ROW EXECUTE FUNCTION "
            "lumina_refuse('email_events is append-only')",
        ),
    }
    for table in ORDERED_TABLES:
        found[f"{table}_commit_order"] = (
            table,
            f"BEFORE INSERT ON {table} FOR EACH ROW"
            f" EXECUTE FUNCTION lumina_commit_order('{table}_rowid_seq')",
        )
    tables = {t for t, _ in found.values()}
    present = {
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = ANY(%s)",
            (sorted(tables),),
        ).fetchall()
    }
    return {name: spec for name, spec in found.items() if spec[0] in present}


def _in_place(conn: Any) -> bool:
    wanted = _functions(conn)
    have = dict(
        conn.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", (list(wanted),)
        ).fetchall()
    )
    if any(have.get(name) != body for name, body in wanted.items()):
        return False
    triggers = {
        (row[0], row[1])
        for row in conn.execute(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
        ).fetchall()
    }
    return all((name, table) in triggers for name, (table, _) in _triggers(conn).items())


def install_guards(conn: Any) -> list[str]:
    """Create or replace every guard that is missing or out of date; returns what was (re)made."""
    if _in_place(conn):
        return []
    with conn.transaction():
        _lock(conn)
        for name, body in _functions(conn).items():
            conn.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
                f" AS $lumina${body}$lumina$"
            )
        fixed = []
        for name, (table, rest) in _triggers(conn).items():
            conn.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            conn.execute(f"CREATE TRIGGER {name} {rest}")
            fixed.append(name)
    log.info("installed store guards on PostgreSQL: %s", ", ".join(fixed))
    return fixed


def migrate(engine: Engine, target: int | None = None, *, check: Callable[[int], None] | None = None) -> int:
    """Apply every pending migration up to `target` (default: newest), then the guards."""
    raw = engine.raw_connection()
    conn = raw.driver_connection
    assert conn is not None
    conn.rollback()
    conn.autocommit = True
    try:
        if check is not None:
            check(_read_version(conn))
        goal = head_version() if target is None else target
        for version in all_versions():
            if version > goal:
                break
            if _read_version(conn) < version:
                apply_version(conn, version)
        version = _read_version(conn)
        if version >= 1:
            install_guards(conn)
        return version
    finally:
        conn.autocommit = False
        raw.close()
