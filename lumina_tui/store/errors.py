"""What went wrong with the database file, in words a rep can act on.

SQLite reports "database is locked", "attempt to write a readonly database" or "file is not a
database"; SQLAlchemy wraps them with the SQL and its parameters (the rep's subject and body). The
store turns them into a `StoreError` that names the file and what to do, and never carries the
SQL parameters, so nothing a rep wrote is printed with an error or lands in a log line.

`StoreError` is a `LuminaError` (the family's base sits below the store), so the composer's and the
CLI's `except LuminaError` catch it: `code` says what happened, `field` is "database", exit 1 (an
I/O failure).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from lumina_tui.errors import LuminaError

# SQLite's primary result codes (extended codes keep these in their low byte).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 13, 14, 26


class StoreError(LuminaError):
    """The database cannot be used as it is; `message` says which file and what to do."""

    code = "database_error"
    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, field="database")
        if code:
            self.code = code


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    """The driver's own error under SQLAlchemy's wrapper (its text holds no SQL parameters)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            return current
        current = getattr(current, "orig", None) or current.__cause__
    return None


def _writable_hint(path: Path) -> str:
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return f"the database file {path} is read-only"
    if not os.access(folder, os.W_OK):
        return f"the data folder {folder} is read-only"
    return f"the database file {path} or its folder {folder} is read-only"


def translate(
    exc: BaseException, path: Path | None, *, busy_seconds: float | None = None
) -> StoreError | None:
    """A `StoreError` for a SQLite failure about the file itself; None for anything else.

    Constraint violations (IntegrityError) are the services' business and are never translated.
    """
    if isinstance(exc, StoreError):
        return exc
    error = _sqlite_error(exc)
    if error is None or isinstance(error, sqlite3.IntegrityError):
        return None
    where = str(path) if path else "the database"
    primary = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(error)
    lowered = text.lower()
    if primary in (SQLITE_BUSY, SQLITE_LOCKED) or "locked" in lowered:
        waited = f" for {busy_seconds:g} s" if busy_seconds is not None else ""
        return StoreError(
            f"{where} is locked by another process (waited{waited}); nothing was changed. "
            "Try again when it finishes.",
            code="database_locked",
        )
    if primary == SQLITE_FULL or "disk is full" in lowered:
        return StoreError(
            f"the disk holding {where} is full; nothing was saved. Free some space and try again.",
            code="disk_full",
        )
    if primary == SQLITE_READONLY or "readonly" in lowered:
        hint = _writable_hint(path) if path else "the database is read-only"
        return StoreError(f"cannot write: {hint}; nothing was changed.", code="database_read_only")
    if primary == SQLITE_CANTOPEN or "unable to open" in lowered:
        hint = _writable_hint(path) if path else "the database cannot be opened"
        return StoreError(
            f"cannot open {where}: it is missing and cannot be created, or {hint}.",
            code="database_unavailable",
        )
    if primary in (SQLITE_NOTADB, SQLITE_CORRUPT) or "not a database" in lowered or "malformed" in lowered:
        return StoreError(
            f"{where} is not a readable SQLite database (left untouched). Move it away, or point "
            "LUMINA_DATABASE_URL at another file.",
            code="database_corrupt",
        )
    if primary == SQLITE_IOERR or "i/o error" in lowered:
        return StoreError(
            f"a disk error while using {where} (is the disk full, read-only or gone?); "
            "nothing was saved.",
            code="disk_error",
        )
    if isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        return StoreError(f"database error on {where}: {text}", code="database_error")
    return None
