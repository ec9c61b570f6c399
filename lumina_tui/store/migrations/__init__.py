"""Ordered schema migrations and the immutability guards re-installed after every run.

Each migration is a numbered `.sql` file beside this module (or a Python step registered in
`PYTHON_STEPS`), applied once, in order, inside `BEGIN IMMEDIATE`, and recorded in
`schema_version`. A database made by an older Lumina therefore opens in a newer one.

SQLite's table-rebuilding migrations (create new, copy, drop old, rename) silently drop the old
table's triggers, so the guards are not part of any migration: `install_guards` runs after every
migration run and recreates any guard that is missing or out of date.

The `.sql` files are written in SQLite's dialect and are the one source of truth for both engines:
on PostgreSQL (`migrations.postgresql`) the same files run through a small translation, plus the
few statements only PostgreSQL needs, and the guards are plpgsql triggers.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lumina_tui.store.migrations.search_index import install_search_index

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# Python steps for migrations SQL alone cannot express: version -> (name, function(conn)).
PythonStep = Callable[[sqlite3.Connection], None]
PYTHON_STEPS: dict[int, tuple[str, PythonStep]] = {}


def sql_migrations() -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for path in sorted(HERE.glob("*.sql")):
        match = _FILE.match(path.name)
        if match:
            version = int(match.group(1))
            if version in found:
                # Two branches that each added "the next" migration: one would silently win.
                raise RuntimeError(
                    f"two migrations share number {version:04d}: {found[version][0]!r} and "
                    f"{match.group(2)!r}; renumber the newer one"
                )
            found[version] = (match.group(2), path.read_text(encoding="utf-8"))
    return found


def all_versions() -> list[int]:
    return sorted(set(sql_migrations()) | set(PYTHON_STEPS))


def head_version() -> int:
    versions = all_versions()
    return versions[-1] if versions else 0


def _raw(engine: Engine) -> Any:
    return engine.raw_connection()


def current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def apply_version(conn: sqlite3.Connection, version: int) -> None:
    """Apply one migration in its own IMMEDIATE transaction (no-op if another process did)."""
    sql = sql_migrations()
    conn.execute("BEGIN IMMEDIATE")
    try:
        if current_version(conn) >= version:
            conn.execute("ROLLBACK")
            return
        if version in PYTHON_STEPS:
            name, step = PYTHON_STEPS[version]
            step(conn)
        else:
            name, script = sql[version]
            for statement in split_statements(script):
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", (version, name))
        conn.execute("COMMIT")
        log.info("schema migrated to version %s (%s)", version, name)
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def split_statements(script: str) -> list[str]:
    """Split a script into complete statements (sqlite3 knows where a trigger body ends)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def guard_statements(conn: sqlite3.Connection) -> dict[str, str]:
    """The guards as they must be for the current columns of `emails` (name -> CREATE sql)."""
    # Imported here: `head_version` is read by the CLI's plain read path, which must not load SQLModel.
    from lumina_tui.store.models import EMAIL_MUTABLE_COLUMNS

    columns = [row[1] for row in conn.execute("PRAGMA table_info(emails)")]
    content = [c for c in columns if c not in EMAIL_MUTABLE_COLUMNS]
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in content)
    return {
        "emails_content_immutable": (
            "CREATE TRIGGER emails_content_immutable BEFORE UPDATE ON emails FOR EACH ROW "
            f"WHEN {changed} BEGIN "
            "SELECT RAISE(ABORT, 'emails rows are immutable: only delivery status may change'); END"
        ),
        "emails_no_delete": (
            "CREATE TRIGGER emails_no_delete BEFORE DELETE ON emails FOR EACH ROW BEGIN "
            "SELECT RAISE(ABORT, 'emails rows are immutable and cannot be deleted'); END"
        ),
        "email_events_no_update": (
            "CREATE TRIGGER email_events_no_update BEFORE UPDATE ON email_events FOR EACH ROW BEGIN "
            "SELECT RAISE(ABORT, 'email_events is append-only'); END"
        ),
        "email_events_no_delete": (
            "CREATE TRIGGER email_events_no_delete BEFORE DELETE ON email_events FOR EACH ROW BEGIN "
            "SELECT RAISE(ABORT, 'email_events is append-only'); END"
        ),
    }


def install_guards(conn: sqlite3.Connection) -> list[str]:
    """Create every guard that is missing or differs from what it must be; returns their names.

    The usual case (every guard in place) is a plain read, so opening the store never waits for
    another process's write lock just to find nothing to do.
    """
    wanted = guard_statements(conn)
    existing = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    if all(existing.get(name) == sql for name, sql in wanted.items()):
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        wanted = guard_statements(conn)
        existing = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        fixed = []
        for name, sql in wanted.items():
            if existing.get(name) != sql:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
                conn.execute(sql)
                fixed.append(name)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if fixed:
        log.info("installed store guards: %s", ", ".join(fixed))
    return fixed


def migrate(engine: Engine, target: int | None = None, *, check: Callable[[int], None] | None = None) -> int:
    """Apply every pending migration up to `target` (default: newest), then the guards.

    `check(found_version)` runs before anything is applied and may refuse the database (a newer
    Lumina's schema) by raising.
    """
    if engine.dialect.name == "postgresql":
        from lumina_tui.store.migrations import postgresql

        return postgresql.migrate(engine, target, check=check)
    raw = _raw(engine)
    try:
        conn: sqlite3.Connection = raw.driver_connection
        if check is not None:
            check(current_version(conn))
        goal = head_version() if target is None else target
        for version in all_versions():
            if version > goal:
                break
            if current_version(conn) < version:
                apply_version(conn, version)
        if current_version(conn) >= 1:
            install_guards(conn)
            install_search_index(conn)
        return current_version(conn)
    finally:
        raw.close()
