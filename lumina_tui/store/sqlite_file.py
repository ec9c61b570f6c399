"""A SQLite file checked before anything writes to it, and its schema version: without SQLAlchemy.

`store.db` runs these before its engines touch a file; the CLI's plain read path
(`services/plain_reads.py`) runs them too, so `lumina prospects list --json` refuses the same files
with the same errors without paying for importing SQLAlchemy (issue 9 point 22). Only `sqlite3` and
the standard library are imported here.

Before anything is written, `check_file` looks at an existing file through a read-only connection:
a folder, a file that is not SQLite, a SQLite file that is not Lumina's (tables but no
`schema_version`) or one from a newer Lumina is refused with the file left byte for byte as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lumina_tui.store.errors import StoreError, translate

# Tables every Lumina database has from its first migration on: a file with these but no
# schema_version is Lumina's, damaged; a file with other tables only is someone else's.
LUMINA_TABLES = frozenset({"workspaces", "users", "prospects", "email_drafts", "emails"})


def file_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database."""
    path = url.split("///", 1)[-1] if "///" in url else ""
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return Path(path.split("?", 1)[0])


def check_file(path: Path) -> None:
    """Refuse a file Lumina must not write to, before anything is written (see the docstring)."""
    if path.is_dir():
        raise StoreError(
            f"the database path {path} is a folder, not a file; point LUMINA_DATABASE_URL at a file.",
            code="database_not_a_file",
        )
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}", code="database_unavailable") from exc
    if size == 0:
        return
    # Read-only, and `immutable` when no WAL file exists: then SQLite creates no -wal/-shm files
    # either, so a refused file is left exactly as it was found, alone in its folder.
    wal = path.with_name(path.name + "-wal")
    flags = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True)
    except sqlite3.Error as exc:
        raise translate(exc, path) or StoreError(str(exc)) from exc
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables = {name for name in tables if not name.startswith("sqlite_")}
        if not tables:
            return
        if "schema_version" not in tables:
            if tables & LUMINA_TABLES:
                raise StoreError(
                    f"{path} has Lumina's tables but no schema_version table, so its version is "
                    "unknown; nothing was changed. Restore it from a backup, or move it away to start "
                    "afresh.",
                    code="database_unversioned",
                )
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(
                f"{path} is a SQLite database that is not Lumina's (its tables: {shown}); nothing "
                "was changed. Point LUMINA_DATABASE_URL at a new file or at a Lumina database.",
                code="database_not_lumina",
            )
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        check_version(int(row[0] or 0), path)
    except sqlite3.Error as exc:
        raise translate(exc, path) or StoreError(str(exc)) from exc
    finally:
        conn.close()


def check_version(version: int, path: Path | None) -> None:
    """A database written by a newer Lumina is refused: an older one would corrupt what it added."""
    from lumina_tui.store.migrations import head_version

    newest = head_version()
    if version > newest:
        raise StoreError(
            f"{path or 'the database'} was written by a newer Lumina (schema version {version}; this "
            f"one knows up to {newest}); nothing was changed. Upgrade Lumina to open it.",
            code="database_newer",
        )
