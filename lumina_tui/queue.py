"""The huey queue and its doorbells: thin tasks that only say "look at email X" or "sweep now".

huey delivers a job at most once (a job is removed from the queue before it runs, and a killed
worker loses the job it was running), so the queue holds no truth: the `emails` rows do. A doorbell
carries nothing but an email id; the handler it rings is registered by the worker at start-up
(`register_handlers`), which lets the services enqueue without importing the worker.

Where the queue lives: `SqliteHuey` on `queue.db` in the data dir by default; `LUMINA_QUEUE_URL`
picks `PriorityRedisHuey` (`redis://`, `rediss://`, `unix://`) or `PostgresHuey` (`postgresql://`,
needs the psycopg package).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from huey import Huey, PostgresHuey, PriorityRedisHuey, SqliteHuey, crontab
from huey.exceptions import ConfigurationError
from huey.storage import SqliteStorage

from lumina_tui.config import Settings, ensure_private_dir, ensure_private_file

log = logging.getLogger(__name__)

QUEUE_NAME = "lumina"
SEND_EMAIL = "send_email"
SWEEP = "sweep_pending"
SYNC_MAILBOXES = "sync_mailboxes"
RUN_CONSUMERS = "run_consumers"
# Busy timeout of the SQLite queue file: a burst of enqueues from many threads must wait, not fail.
SQLITE_TIMEOUT_SECONDS = 30.0

Handler = Callable[..., Any]


class QueueConfigurationError(RuntimeError):
    """LUMINA_QUEUE_URL names a backend this build cannot use; the message says what to do."""


class OutboxQueueStorage(SqliteStorage):
    """huey's SQLite storage in WAL with synchronous=NORMAL, like the store itself.

    huey offers FULL (an fsync per enqueue: milliseconds, and long stalls on a busy disk) or OFF
    (a power cut may corrupt the file). NORMAL survives any process crash and can only lose the
    last doorbells on a power cut, which the worker's sweep re-rings from the rows, the truth.
    """

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class Doorbells:
    """One huey instance with Lumina's two tasks registered on it."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.send_email = huey.task(name=SEND_EMAIL)(_ring_send_email)
        # huey's scheduler checks periodic tasks once a minute; the worker also sweeps on its own
        # timer (settings.worker.sweep_interval_seconds), so this is the floor, not the only sweep.
        self.sweep = huey.periodic_task(crontab(), name=SWEEP)(_ring_sweep)
        # "Sync now" from another process; the worker's handler only wakes its mailbox-sync thread,
        # so a slow mailbox never holds a consumer thread that a send is waiting for.
        self.sync_mailboxes = huey.task(name=SYNC_MAILBOXES)(_ring_sync_mailboxes)
        # "Events were appended": wakes the worker's consumer thread (the log is the truth; the
        # thread also looks on its own timer, so a lost ring only delays the figures).
        self.run_consumers = huey.task(name=RUN_CONSUMERS)(_ring_run_consumers)

    def close(self) -> None:
        close = getattr(self.huey.storage, "close", None)
        if close is not None:
            close()


_handlers: dict[str, Handler] = {}
_instances: dict[str, Doorbells] = {}
_lock = threading.Lock()


def register_handlers(
    *,
    send_email: Handler,
    sweep: Handler,
    sync_mailboxes: Handler | None = None,
    run_consumers: Handler | None = None,
) -> None:
    """Called once by the worker at start-up: what each doorbell does in this process."""
    _handlers[SEND_EMAIL] = send_email
    _handlers[SWEEP] = sweep
    if sync_mailboxes is not None:
        _handlers[SYNC_MAILBOXES] = sync_mailboxes
    if run_consumers is not None:
        _handlers[RUN_CONSUMERS] = run_consumers


def clear_handlers() -> None:
    _handlers.clear()


def _ring(name: str, *args: Any) -> Any:
    handler = _handlers.get(name)
    if handler is None:
        raise RuntimeError(f"no handler is registered for {name!r}: only a Lumina worker runs doorbells")
    return handler(*args)


def _ring_send_email(email_id: str) -> Any:
    return _ring(SEND_EMAIL, email_id)


def _ring_sweep() -> Any:
    return _ring(SWEEP)


def _ring_sync_mailboxes(account_id: str | None = None) -> Any:
    return _ring(SYNC_MAILBOXES, account_id)


def _ring_run_consumers() -> Any:
    return _ring(RUN_CONSUMERS)


def queue_location(settings: Settings) -> str:
    """Where the queue lives, as a URL (the key of the per-process instance cache)."""
    return settings.queue_url or f"sqlite:///{settings.queue_path}"


def build_huey(settings: Settings) -> Huey:
    """A fresh huey instance for the configured backend (no doorbells registered yet)."""
    url = (settings.queue_url or "").strip()
    common: dict[str, Any] = {"results": False, "utc": True}
    if not url:
        # The queue holds email ids and payloads: a 0600 file in the 0700 data folder.
        ensure_private_dir(settings.queue_path.parent)
        ensure_private_file(settings.queue_path)
        return SqliteHuey(
            QUEUE_NAME,
            storage_class=OutboxQueueStorage,
            filename=str(settings.queue_path),
            timeout=SQLITE_TIMEOUT_SECONDS,
            **common,
        )
    scheme = url.split(":", 1)[0].lower()
    try:
        if scheme in {"redis", "rediss", "unix"}:
            return PriorityRedisHuey(QUEUE_NAME, url=url, **common)
        if scheme in {"postgres", "postgresql"}:
            return PostgresHuey(QUEUE_NAME, dsn=url, **common)
    except ConfigurationError as exc:
        extra = "redis" if scheme.startswith("redis") or scheme == "unix" else "psycopg"
        raise QueueConfigurationError(
            f"LUMINA_QUEUE_URL={_redacted(url)} needs the {extra!r} package: {exc}"
        ) from exc
    raise QueueConfigurationError(
        f"LUMINA_QUEUE_URL={_redacted(url)}: unsupported scheme {scheme!r}; use redis://, rediss://, "
        "unix:// or postgresql://, or unset it for the local SQLite queue"
    )


def _redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"


def doorbells(settings: Settings) -> Doorbells:
    """The process's doorbells for the configured queue (one instance per queue location)."""
    key = queue_location(settings)
    with _lock:
        found = _instances.get(key)
        if found is None:
            found = _instances[key] = Doorbells(build_huey(settings))
        return found


def get_huey(settings: Settings) -> Huey:
    return doorbells(settings).huey


def enqueue_send(settings: Settings, email_id: str, *, delay_seconds: float = 0.0) -> None:
    """Ring the doorbell for one email, now or after `delay_seconds` (undo window, backoff)."""
    bells = doorbells(settings)
    if delay_seconds > 0:
        bells.send_email.schedule(args=(email_id,), delay=delay_seconds)
    else:
        bells.send_email(email_id)


def enqueue_sweep(settings: Settings) -> None:
    doorbells(settings).sweep()


def enqueue_mailbox_sync(settings: Settings, account_id: str | None = None) -> None:
    """Ask the running worker to sync mailboxes now (one account, or all of them)."""
    doorbells(settings).sync_mailboxes(account_id)


def enqueue_run_consumers(settings: Settings) -> None:
    """Tell the running worker that events were appended (its consumers fold them in soon)."""
    doorbells(settings).run_consumers()


def queued_count(settings: Settings) -> int:
    """Doorbells waiting to run now plus those scheduled for later."""
    huey = get_huey(settings)
    return int(huey.pending_count()) + int(huey.scheduled_count())


def close_all() -> None:
    """Close every queue connection this process opened (tests, and a worker on its way out)."""
    with _lock:
        for bells in _instances.values():
            try:
                bells.close()
            except Exception:  # closing is best effort: the process may be exiting anyway
                log.debug("closing a queue connection failed", exc_info=True)
        _instances.clear()
