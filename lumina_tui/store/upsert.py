"""`INSERT ... ON CONFLICT` for whichever engine the session is on.

SQLite and PostgreSQL spell upserts the same way, and SQLAlchemy offers the same
`on_conflict_do_nothing` / `on_conflict_do_update` on each dialect's own `insert`; this picks the
one that matches the session, so a service writes one statement for both engines.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def insert(session: Session, table: Any) -> Any:
    """The dialect's `insert(table)`, with `on_conflict_do_*` available."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
