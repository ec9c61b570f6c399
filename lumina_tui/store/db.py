"""The engine and the two kinds of transaction every service uses.

pysqlite runs a plain SELECT outside any transaction, so a read followed by a write is not atomic
and, in WAL mode, a deferred transaction that reads and then writes can fail at once with
SQLITE_BUSY_SNAPSHOT instead of waiting. So Lumina drives transactions itself: `read()` opens a
deferred one (readers never block writers in WAL), `write()` opens `BEGIN IMMEDIATE`, which takes
the write lock up front and waits for it (busy timeout), making read-then-write atomic.

Before anything is written, `check_file` (in `sqlite_file.py`) looks at an existing file through a
read-only connection: a folder, a file that is not SQLite, a SQLite file that is not Lumina's (tables but no
`schema_version`) or one from a newer Lumina is refused with the file left byte for byte as it was
(even `PRAGMA journal_mode = WAL` rewrites the header, so the check runs first). A new database file
is created 0600 in a 0700 folder: it holds the rep's prospects and drafts. SQLite failures about the
file (locked, full, read-only, corrupt) leave `read()`/`write()` as a `StoreError` that names the
file and never carries SQL parameters (`hide_parameters` keeps them out of SQLAlchemy's text too).

Team mode (`postgresql+psycopg://...`, see `store.postgres`) keeps the same two promises with
PostgreSQL's means: `read()` is a REPEATABLE READ snapshot, and `write()` takes one transaction-level
advisory lock first, so write transactions run one at a time exactly as SQLite's `BEGIN IMMEDIATE`
makes them, and every read-then-write in the services stays atomic on either engine.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult, Engine, create_engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from lumina_tui.config import ensure_private_dir, ensure_private_file
from lumina_tui.store.errors import StoreError, translate
from lumina_tui.store.sqlite_file import check_file, check_version, file_path

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000

def _pragmas(busy_timeout_ms: int) -> Any:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: we emit BEGIN ourselves (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return connect


def _make_engine(url: str, begin: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=16,
        # An error's text must never carry the rep's subject or body (they are SQL parameters).
        hide_parameters=True,
    )
    event.listen(engine, "connect", _pragmas(busy_timeout_ms))

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].lower().startswith(("postgresql", "postgres"))


class Database:
    """One store: a snapshot-read engine and a one-writer-at-a-time engine on the same database."""

    def __init__(self, url: str, *, busy_timeout_seconds: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self.url = url
        self.busy_timeout_seconds = busy_timeout_seconds
        busy_ms = max(0, int(busy_timeout_seconds * 1000))
        self.file: Path | None = None
        if is_postgres(url):
            from lumina_tui.store import postgres

            self.dialect = "postgresql"
            self.reader = postgres.make_engine(url, writer=False, busy_timeout_ms=busy_ms)
            self.writer = postgres.make_engine(url, writer=True, busy_timeout_ms=busy_ms)
        elif url.startswith("sqlite"):
            self.dialect = "sqlite"
            self.file = file_path(url)
            if self.file is not None:
                self._prepare_file(self.file)
            self.reader = _make_engine(url, "BEGIN", busy_ms)
            self.writer = _make_engine(url, "BEGIN IMMEDIATE", busy_ms)
        else:
            scheme = url.split(":", 1)[0]
            raise StoreError(
                f"LUMINA_DATABASE_URL: unsupported scheme {scheme!r}; use sqlite:///path/to/file.db "
                "or postgresql+psycopg://user@host/db",
                code="database_url_invalid",
            )
        self._migrated = False
        self._lock = threading.Lock()
        # Writers of this process queue here before SQLite's (or PostgreSQL's) own lock: a thread
        # waiting in SQLite's busy handler sleeps in steps of up to 100 ms and is not woken when
        # the lock comes free, so under load (the API's threadpool, 40 threads) the write lock sat
        # idle between commits; a threading lock hands it over at once. Reentrant with a timeout,
        # so a nested write or a stuck holder falls back to the database's own wait as before.
        self._write_gate = threading.RLock()

    @staticmethod
    def _prepare_file(path: Path) -> None:
        check_file(path)
        try:
            ensure_private_dir(path.parent)
            ensure_private_file(path)
        except OSError as exc:
            raise _os_error(exc, path) from exc

    @property
    def path(self) -> Path:
        return Path(self.url.split("///", 1)[-1])

    def _translated(self, exc: BaseException) -> StoreError | None:
        """The StoreError to raise instead of `exc` (None: raise `exc` itself)."""
        if isinstance(exc, StoreError) or not isinstance(exc, Exception):
            return None
        if self.dialect == "postgresql":
            from lumina_tui.store import postgres

            return postgres.translate(exc, self.url, busy_seconds=self.busy_timeout_seconds)
        return translate(exc, self.file, busy_seconds=self.busy_timeout_seconds)

    @contextmanager
    def _store_errors(self) -> Iterator[None]:
        """Raise a StoreError (naming the file, the lock, the disk) in place of what the driver
        raised; anything already a StoreError, or not an Exception, passes through."""
        try:
            yield
        except BaseException as exc:
            store_error = self._translated(exc)
            if store_error is None:
                raise
            raise store_error from exc

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns that version."""
        from lumina_tui.store.migrations import migrate

        with self._lock:
            with self._store_errors():
                version = migrate(self.writer, check=lambda found: check_version(found, self.file))
            self._migrated = True
            return version

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A consistent snapshot for reads; nothing is written."""
        with Session(self.reader, expire_on_commit=False) as session:
            try:
                with self._store_errors():
                    yield session
            finally:
                # A rollback expires every loaded row; detach them first so that callers can still
                # read the rows a service returns after this block (expire_on_commit covers commits only).
                session.expunge_all()
                session.rollback()

    @contextmanager
    def read_rows(self) -> Iterator[Connection]:
        """`read()` without an ORM Session: a Core connection in the same snapshot transaction.

        For a check on every API request (is the token's user still in the workspace?), where the
        Session's set-up and teardown cost ~10x the one indexed SELECT. Same error translation.
        """
        with self._store_errors(), self.reader.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """This process's turn to write (see `_write_gate`); the database's lock is taken after."""
        gated = self._write_gate.acquire(timeout=max(self.busy_timeout_seconds, 0.001))
        try:
            yield
        finally:
            if gated:
                self._write_gate.release()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception."""
        with (self._store_errors(), self._writer_turn(),
              Session(self.writer, expire_on_commit=False) as session):
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    @contextmanager
    def write_sqlite(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the pooled sqlite3 connection itself, without a Session.

        For the one hot path where SQLAlchemy's layers cost more than the write (a draft save on
        every pause in the rep's typing: ~20x a bare upsert through the ORM). Same transaction,
        same error translation as `write()`; SQLite only (`is_sqlite`), the SQL is SQLite's.
        """
        # The pooled connection itself, BEGIN IMMEDIATE and COMMIT sent by us: SQLAlchemy's
        # Connection and its begin/commit events cost ~0.14 ms CPU per transaction, this ~0.04
        # (a send's or a draft save's whole transaction is ~1-3 ms; issue 14 point 3).
        with self._store_errors(), self._writer_turn():
            pooled = self.writer.raw_connection()
            try:
                conn = _sqlite3(pooled.driver_connection)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                pooled.close()  # back to the pool, which rolls back whatever is still open

    @contextmanager
    def read_sqlite(self) -> Iterator[sqlite3.Connection]:
        """BEGIN ... ROLLBACK on a pooled sqlite3 reader connection: `read()` without a Session, for
        rehearsing a `write_sqlite` path's reads (the send review warms the send's statements)."""
        with (self._store_errors(), self.reader.connect() as conn,
              conn.begin() as transaction):
            yield _sqlite3(conn.connection.driver_connection)
            transaction.rollback()

    def dispose(self) -> None:
        self.reader.dispose()
        self.writer.dispose()


_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def _os_error(exc: OSError, path: Path) -> StoreError:
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        folder = path.parent
        folder_at_fault = not os.access(folder, os.W_OK) or not path.exists()
        what = f"the data folder {folder}" if folder_at_fault else str(path)
        return StoreError(
            f"cannot write: {what} is read-only; nothing was changed.", code="database_read_only"
        )
    if exc.errno == errno.ENOSPC:
        return StoreError(f"the disk holding {path} is full; nothing was saved.", code="disk_full")
    return StoreError(f"cannot use {path}: {exc.strerror or exc}", code="database_unavailable")


def open_database(url: str, *, busy_timeout_seconds: float | None = None) -> Database:
    """The migrated Database for a URL, one per process (engines are pools; share them)."""
    with _open_lock:
        db = _open.get(url)
        if db is None:
            timeout = BUSY_TIMEOUT_MS / 1000 if busy_timeout_seconds is None else busy_timeout_seconds
            db = Database(url, busy_timeout_seconds=timeout)
            try:
                db.migrate()
            except BaseException:
                db.dispose()
                raise
            _open[url] = db
        return db


def _sqlite3(driver: object) -> sqlite3.Connection:
    if not isinstance(driver, sqlite3.Connection):
        raise TypeError(f"a SQLite database was expected, not {type(driver).__name__}")
    return driver


def sqlite_stamp(moment: datetime | None) -> str | None:
    """A datetime as SQLAlchemy stores it in SQLite, for the raw sqlite3 paths (`write_sqlite`), so
    both paths read each other's rows."""
    return None if moment is None else moment.isoformat(sep=" ", timespec="microseconds")


def read_stamp(value: object) -> datetime:
    """A timestamp read by raw SQL as a datetime: PostgreSQL's driver hands one back, SQLite the
    text SQLAlchemy (or `sqlite_stamp`) stored."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def rows_changed(result: object) -> int:
    """How many rows an UPDATE, INSERT or DELETE touched: the answer to "did my conditional
    UPDATE win?". `Session.execute` is typed as returning a plain `Result`; for those statements
    it is a `CursorResult`, which is where `rowcount` lives."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"rows_changed needs the result of an UPDATE, INSERT or DELETE, not {result!r}")
    if _is_upsert(result):
        # psycopg's rowcount for INSERT ... ON CONFLICT is not the rows inserted; SQLite's is. A
        # caller relying on it would be right on one engine only.
        raise TypeError("rows_changed cannot tell what an upsert inserted: use store.upsert.inserted")
    return result.rowcount


def _is_upsert(result: CursorResult[Any]) -> bool:
    """Whether `result` came from an INSERT ... ON CONFLICT (Core or text)."""
    compiled = getattr(result.context, "compiled", None)
    statement = getattr(compiled, "statement", None)
    if getattr(statement, "_post_values_clause", None) is not None:  # Core's on_conflict_do_*
        return True
    sql = getattr(statement, "text", None)
    return isinstance(sql, str) and "ON CONFLICT" in " ".join(sql.upper().split())


def close_all() -> None:
    with _open_lock:
        for db in _open.values():
            db.dispose()
        _open.clear()
