"""Team mode's engines: the same store on PostgreSQL (`postgresql+psycopg://...`).

Only imported when LUMINA_DATABASE_URL names PostgreSQL, so a SQLite user never loads psycopg.

The services were written against SQLite's guarantees, and team mode keeps them rather than
rewriting every verb:
- a read (`Database.read`) is one consistent snapshot: REPEATABLE READ;
- a write (`Database.write`) runs alone: it starts by taking one transaction-level advisory lock
  (`WRITE_LOCK_KEY`), the equivalent of SQLite's `BEGIN IMMEDIATE` write lock. Under READ
  COMMITTED each statement then sees every earlier commit, and nothing commits in between, so a
  read-then-write in a service is as atomic as on SQLite. Writes are short (a send happens outside
  any transaction), so one writer at a time is not what limits a team's throughput;
- waiting for that lock is bounded by `lock_timeout` (the store's busy timeout), and a wait that
  runs out becomes the same `database_locked` StoreError SQLite's busy timeout gives.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url

from lumina_tui.store.errors import StoreError

# pg_advisory_xact_lock key every write transaction (and every event append) takes first.
# Arbitrary but fixed: "LUMI" in ASCII.
WRITE_LOCK_KEY = 0x4C554D49


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: show only its scheme
        return url.split(":", 1)[0] + "://..."


def make_engine(url: str, *, writer: bool, busy_timeout_ms: int) -> Engine:
    """A pooled engine: snapshot reads, or one-at-a-time writes (see the module docstring)."""
    options = f"-c lock_timeout={busy_timeout_ms} -c application_name=lumina"
    engine = create_engine(
        url,
        connect_args={"options": options, "connect_timeout": 10},
        isolation_level="READ COMMITTED" if writer else "REPEATABLE READ",
        pool_size=4,
        max_overflow=16,
        pool_pre_ping=True,  # a restarted server leaves dead connections in the pool
        hide_parameters=True,
    )
    if writer:

        @event.listens_for(engine, "begin")
        def _take_write_lock(conn: Any) -> None:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    return engine


def _driver_error(exc: BaseException) -> Any:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.startswith("psycopg"):
            return current
        current = getattr(current, "orig", None) or current.__cause__
    return None


def translate(exc: BaseException, url: str, *, busy_seconds: float | None = None) -> StoreError | None:
    """A StoreError for a failure of the database server itself; None for the services' own errors.

    Constraint violations (IntegrityError, the guards' refusals among them) are never translated.
    The message names the server without its password and never carries SQL parameters.
    """
    import psycopg

    error = _driver_error(exc)
    if error is None or isinstance(error, psycopg.IntegrityError):
        return None
    where = redacted(url)
    state = getattr(error, "sqlstate", None) or ""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if state in {"55P03", "57014", "40P01"}:  # lock_not_available, query_canceled, deadlock
        waited = f" for {busy_seconds:g} s" if busy_seconds is not None else ""
        return StoreError(
            f"{where} is busy with another writer (waited{waited}); nothing was changed. "
            "Try again when it finishes.",
            code="database_locked",
        )
    if state == "53100":
        return StoreError(f"the disk of {where} is full; nothing was saved.", code="disk_full")
    if state == "25006":
        return StoreError(
            f"cannot write: {where} is read-only; nothing was changed.", code="database_read_only"
        )
    if isinstance(error, psycopg.OperationalError) and not state:
        return StoreError(f"cannot reach the database {where}: {first_line}", code="database_unavailable")
    if isinstance(error, psycopg.OperationalError):
        return StoreError(f"database error on {where}: {first_line}", code="database_error")
    return None
