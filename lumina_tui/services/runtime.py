"""What every entry point needs: settings, the migrated store, the acting user, logging to a file.

The CLI, the composer and the worker all start here, so they agree on where things live.
`cli_settings` is the first half alone (settings read and checked, folders made, logging to the
file): the CLI's plain read path (`plain_reads.py`) starts from it without opening the store
through SQLAlchemy, so the store's modules are imported only when a Runtime is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lumina_tui import paths, settings_check
from lumina_tui.logs import setup_logging
from lumina_tui.settings_check import StoreLocation

if TYPE_CHECKING:
    from lumina_tui.config import Settings
    from lumina_tui.services.actors import Actor

    # Re-exported by name: `lumina serve` (api/) annotates with the store's type without importing it.
    from lumina_tui.store import Database as Database


def store_now() -> datetime:
    """The store's clock (`store.utcnow`, naive UTC), imported when first read, not with this module."""
    from lumina_tui.store import utcnow

    return utcnow()


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    actor: Actor
    # Naive UTC now: what the send and outbox services stamp, and what the outbox screen counts the
    # undo window by. A test hands in its own clock here instead of patching modules.
    clock: Callable[[], datetime] = store_now


_current: Runtime | None = None
_settings: Settings | None = None


def prepared_settings(settings: Settings | None = None, *, log_file: str = "lumina.log") -> Settings:
    """Settings (read afresh unless given), their folders made and logging to the file set up."""
    if settings is None:
        from lumina_tui.config import load_settings  # pydantic: only a full check pays for it

        settings = load_settings()
    _prepare_folders(log_file)
    return settings


def _prepare_folders(log_file: str = "lumina.log") -> None:
    """The data, config and log folders made private, and logging to the file set up."""
    paths.ensure_dirs()
    setup_logging(paths.log_dir(), filename=log_file)


def open_runtime(settings: Settings | None = None, *, log_file: str = "lumina.log") -> Runtime:
    """Settings (read afresh unless given), the migrated database and the local actor."""
    from lumina_tui.services.actors import local_actor
    from lumina_tui.store import open_database

    settings = prepared_settings(settings, log_file=log_file)
    db = open_database(
        settings.resolved_database_url, busy_timeout_seconds=settings.database_busy_timeout_seconds
    )
    return Runtime(settings=settings, db=db, actor=local_actor(db))


def open_store(settings: Settings) -> Database:
    """The migrated store the settings name, without a local actor (`lumina serve`: each request
    acts as its token's user)."""
    from lumina_tui.store import open_database

    return open_database(
        settings.resolved_database_url, busy_timeout_seconds=settings.database_busy_timeout_seconds
    )


def cli_settings() -> Settings:
    """The CLI's settings, read once per process (the same ones `runtime()` then opens the store with)."""
    global _settings
    if _settings is None:
        _settings = prepared_settings()
    return _settings


def cli_store_location() -> StoreLocation:
    """Where the store is, for the CLI's plain read path: from the memo of the last settings check
    with the same inputs when there is one (no pydantic imported: `settings_check.py` says why),
    else from the full check (`cli_settings`), which then leaves the memo for the next process."""
    global _settings
    if _settings is not None:
        return _settings
    checked = settings_check.recall()
    if checked is not None:
        _prepare_folders()
        return checked
    before = settings_check.inputs_now()
    settings = cli_settings()
    settings_check.remember(settings, before)
    return settings


def runtime() -> Runtime:
    """One Runtime per process for the CLI (tests call `reset_runtime` between runs)."""
    global _current
    if _current is None:
        _current = open_runtime(cli_settings())
    return _current


def reset_runtime() -> None:
    global _current, _settings
    _current = None
    _settings = None
