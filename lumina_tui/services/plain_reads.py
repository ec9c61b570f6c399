"""The read verbs' fast path: `prospects list --json` and `drafts show ID --json` without the ORM.

A script calls these once per row it handles, so their whole-process start-up counts (issue 9
point 22: under 0.5 s), and importing SQLAlchemy + SQLModel alone costs about that much. This
module answers them with the standard library's `sqlite3` on the same file, through the same JSON
functions (`jsonable.prospect_json`, `jsonable.draft_json`), so the printed document is the same
byte for byte (tests/cli/test_plain_reads.py compares the two paths on the same data).

It answers only the plain, happy case and says so by returning None otherwise, and then the caller
takes the ORM path, which gives whatever answer or error that path gives:

- the store is not a SQLite file that already exists (a new file must be created and migrated;
  another database kind has no plain path);
- the file is refused (`sqlite_file.check_file`: not Lumina's, a newer Lumina's, a folder);
- its schema is not exactly the newest one (`SELECT MAX(version)`: it needs migrating);
- there is no local user yet (the ORM path creates the workspace);
- the request is not plain: a `--search` (its matching rules belong to `prospects.list_prospects`),
  an id that is not a UUID, a draft that is not found (the error's words belong to the service);
- SQLite says anything but rows (locked, corrupt, ...): the ORM path meets it and reports it.

Settings are checked in full first (`runtime.cli_store_location`), so a wrong setting is the
same `invalid_config` error on both paths; a process whose settings inputs passed that check
before takes the store's location from its memo (`settings_check.py`) without importing pydantic.
Nothing is written: the connection only reads, in one deferred transaction (the count and the
page are one snapshot, as on the ORM path).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from lumina_tui.errors import LuminaError
from lumina_tui.services.jsonable import draft_json, draft_status, prospect_json
from lumina_tui.settings_check import StoreLocation

# The same bounds as `prospects.list_prospects` and `prospects.MAX_OFFSET`.
_LIST_LIMIT = 1000
_MAX_OFFSET = 1_000_000_000


class _NotPlain(Exception):
    """This request has no plain answer: the caller takes the ORM path."""


@dataclass(frozen=True, slots=True)
class ProspectRow:
    """A prospect as `jsonable.prospect_json` reads it."""

    id: str
    email: str
    first_name: str
    last_name: str
    company: str
    job_title: str
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DraftRow:
    """A draft as `jsonable.draft_json` reads it."""

    id: str
    workspace_id: str
    subject: str
    body_text: str
    body_html: str
    prospect_id: str | None
    template_id: str | None
    account_id: str | None
    revision: int
    sent_at: datetime | None
    email_id: str | None
    created_at: datetime
    updated_at: datetime


def _time(value: Any) -> datetime:
    # What SQLAlchemy's SQLite DATETIME does with a stored value (`datetime.fromisoformat`).
    if not isinstance(value, str):
        raise _NotPlain("a time that is not text")
    return datetime.fromisoformat(value)


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _json_column(value: Any) -> Any:
    # What SQLAlchemy's JSON type does with a stored value (`json.loads`, None stays None).
    return None if value is None else json.loads(value)


Row = TypeVar("Row", ProspectRow, DraftRow)

# How a stored value becomes the field's value, as SQLAlchemy's column types read it; a field not
# named here is taken as SQLite returns it (text, integer, NULL).
_READERS: dict[str, Callable[[Any], Any]] = {
    "custom_fields": _json_column,
    "created_at": _time,
    "updated_at": _time,
    "sent_at": _optional_time,
}


def _columns(row_type: type[Row]) -> str:
    """The SELECT list for `row_type`: its fields, in order, are the columns read."""
    return ", ".join(f.name for f in fields(row_type))


def _read_row(row_type: type[Row], row: tuple[Any, ...]) -> Row:
    """A row selected with `_columns(row_type)` as `row_type`, each value read as the ORM would."""
    names = [f.name for f in fields(row_type)]
    values = zip(names, row, strict=True)
    return row_type(**{name: _READERS.get(name, _same)(value) for name, value in values})


def _same(value: Any) -> Any:
    return value


@contextmanager
def _snapshot(settings: StoreLocation) -> Iterator[tuple[sqlite3.Connection, str]]:
    """A read transaction on the current-schema store and the local workspace's id, or _NotPlain."""
    from lumina_tui.store.migrations import head_version
    from lumina_tui.store.sqlite_file import check_file, file_path

    url = settings.resolved_database_url
    path = file_path(url) if url.startswith("sqlite:///") else None
    if path is None or "?" in url:
        raise _NotPlain("not a plain SQLite file")
    try:
        if path.stat().st_size == 0:
            raise _NotPlain("a new file: the ORM path creates the schema")
    except OSError as exc:
        raise _NotPlain("no file yet") from exc
    check_file(path)
    busy = max(0.0, float(settings.database_busy_timeout_seconds))
    conn = sqlite3.connect(path, timeout=busy, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy * 1000)}")
        conn.execute("BEGIN")
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        if row is None or row[0] != head_version():
            raise _NotPlain("the schema needs migrating")
        # The same local actor as `context.local_actor`: the first user made.
        user = conn.execute("SELECT workspace_id, id FROM users ORDER BY created_at LIMIT 1").fetchone()
        if user is None:
            raise _NotPlain("no local user yet")
        yield conn, user[0]
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        conn.close()


def _answer(read: Any) -> dict[str, Any] | None:
    """`read()`'s document, or None when the request has no plain answer."""
    try:
        return read()  # type: ignore[no-any-return]  # each reader returns a JSON document
    except (_NotPlain, sqlite3.Error, LuminaError, OSError, ValueError, TypeError, KeyError):
        # LuminaError: check_file refused the file; ValueError: a stored time or JSON the ORM path
        # would read differently or fail on. Either way that path answers, in its own words.
        return None


def prospects_page(
    settings: StoreLocation, *, search: str | None, limit: int, offset: int
) -> dict[str, Any] | None:
    """`prospects list --json`'s document (`{items, total}`), or None: take the ORM path."""

    def read() -> dict[str, Any]:
        if search and search.strip():
            raise _NotPlain("search")
        with _snapshot(settings) as (conn, workspace_id):
            total = conn.execute(
                "SELECT count(*) FROM prospects WHERE workspace_id = ?", (workspace_id,)
            ).fetchone()[0]
            rows = conn.execute(
                f"SELECT {_columns(ProspectRow)} FROM prospects WHERE workspace_id = ? "
                "ORDER BY lower(first_name), lower(last_name), email LIMIT ? OFFSET ?",
                (workspace_id, max(1, min(limit, _LIST_LIMIT)), max(0, min(offset, _MAX_OFFSET))),
            ).fetchall()
        items = [prospect_json(_read_row(ProspectRow, row)) for row in rows]
        return {"items": items, "total": int(total)}

    return _answer(read)


def draft_document(settings: StoreLocation, draft_id: str) -> dict[str, Any] | None:
    """`drafts show ID --json`'s document (the draft with its status), or None: take the ORM path."""

    def read() -> dict[str, Any]:
        from lumina_tui.services.validation import uuid_text

        wanted = uuid_text(draft_id, "draft_id")  # a ValidationError: the ORM path says it
        with _snapshot(settings) as (conn, workspace_id):
            row = conn.execute(
                f"SELECT {_columns(DraftRow)} FROM email_drafts WHERE id = ?", (wanted,)
            ).fetchone()
            if row is None:
                raise _NotPlain("not found: the ORM path words the error")
            draft = _read_row(DraftRow, row)
            if draft.workspace_id != workspace_id:
                raise _NotPlain("not found: the ORM path words the error")
            email_status = None
            if draft.sent_at is not None and draft.email_id:
                # As `drafts.status_of`: the email's status, scoped to the workspace.
                found = conn.execute(
                    "SELECT status FROM emails WHERE workspace_id = ? AND id = ?",
                    (workspace_id, draft.email_id),
                ).fetchone()
                email_status = found[0] if found else None
        return draft_json(draft, draft_status(draft, email_status))

    return _answer(read)
