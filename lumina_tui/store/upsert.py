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


def inserted(session: Session, statement: Any, params: dict[str, Any] | None = None) -> bool:
    """Run an `INSERT ... ON CONFLICT DO NOTHING` and say whether it created the row.

    Why not `rowcount`: for an upsert psycopg's rowcount is not the rows inserted (PostgreSQL
    answered "nothing new" for rows it had just created), while SQLite's is; RETURNING gives the same
    answer on both engines. `statement` is a Core insert (`insert(session, Model)...`: its primary
    key is returned unless it already returns something) or a `text()` INSERT, to which
    ` RETURNING 1` is added. `store.db.rows_changed` refuses upserts, so this is the only way.
    """
    from sqlalchemy import TextClause, text

    if isinstance(statement, TextClause):
        sql = statement.text.rstrip().rstrip(";")
        if "RETURNING" not in sql.upper():
            sql += " RETURNING 1"
        result = session.execute(text(sql), params or {})
    else:
        if not statement._returning:  # SQLAlchemy's own record of a RETURNING clause
            statement = statement.returning(*statement.table.primary_key.columns)
        result = session.execute(statement, params) if params else session.execute(statement)
    return result.first() is not None
