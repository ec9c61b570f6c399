"""What every entry point needs: settings, the migrated store, the acting user, logging to a file.

The CLI, the composer and the worker all start here, so they agree on where things live.
"""

from __future__ import annotations

from dataclasses import dataclass

from lumina_tui.config import Settings, load_settings
from lumina_tui.logs import setup_logging
from lumina_tui.services.context import Actor, local_actor
from lumina_tui.store import Database, open_database


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    actor: Actor


_current: Runtime | None = None


def open_runtime(settings: Settings | None = None, *, log_file: str = "lumina.log") -> Runtime:
    """Settings (read afresh unless given), the migrated database and the local actor."""
    settings = settings or load_settings()
    settings.ensure_dirs()
    setup_logging(settings.log_dir, filename=log_file)
    db = open_database(
        settings.resolved_database_url, busy_timeout_seconds=settings.database_busy_timeout_seconds
    )
    return Runtime(settings=settings, db=db, actor=local_actor(db))


def open_store(settings: Settings) -> Database:
    """The migrated store the settings name, without a local actor (`lumina serve`: each request
    acts as its token's user)."""
    return open_database(
        settings.resolved_database_url, busy_timeout_seconds=settings.database_busy_timeout_seconds
    )


def runtime() -> Runtime:
    """One Runtime per process for the CLI (tests call `reset_runtime` between runs)."""
    global _current
    if _current is None:
        _current = open_runtime()
    return _current


def reset_runtime() -> None:
    global _current
    _current = None
