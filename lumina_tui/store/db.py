"""The engine and the two kinds of transaction every service uses.

pysqlite runs a plain SELECT outside any transaction, so a read followed by a write is not atomic
and, in WAL mode, a deferred transaction that reads and then writes can fail at once with
SQLITE_BUSY_SNAPSHOT instead of waiting. So Lumina drives transactions itself: `read()` opens a
deferred one (readers never block writers in WAL), `write()` opens `BEGIN IMMEDIATE`, which takes
the write lock up front and waits for it (busy timeout), making read-then-write atomic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: we emit BEGIN ourselves (see the module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _make_engine(url: str, begin: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=16,
    )
    event.listen(engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """One store: a deferred-read engine and an immediate-write engine on the same file."""

    def __init__(self, url: str) -> None:
        if not url.startswith("sqlite"):
            raise ValueError("only SQLite URLs are supported by this build (team mode comes later)")
        self.url = url
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.reader = _make_engine(url, "BEGIN")
        self.writer = _make_engine(url, "BEGIN IMMEDIATE")
        self._migrated = False
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return Path(self.url.split("///", 1)[-1])

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns that version."""
        from lumina_tui.store.migrations import migrate

        with self._lock:
            version = migrate(self.writer)
            self._migrated = True
            return version

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A consistent snapshot for reads; nothing is written."""
        with Session(self.reader, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                # A rollback expires every loaded row; detach them first so that callers can still
                # read the rows a service returns after this block (expire_on_commit covers commits only).
                session.expunge_all()
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception."""
        with Session(self.writer, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.reader.dispose()
        self.writer.dispose()


_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def open_database(url: str) -> Database:
    """The migrated Database for a URL, one per process (engines are pools; share them)."""
    with _open_lock:
        db = _open.get(url)
        if db is None:
            db = Database(url)
            db.migrate()
            _open[url] = db
        return db


def close_all() -> None:
    with _open_lock:
        for db in _open.values():
            db.dispose()
        _open.clear()
