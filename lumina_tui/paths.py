"""Where Lumina keeps things, and making those folders private: without reading the settings.

The folders are functions of the environment (`LUMINA_HOME` puts data, config, logs and caches
under one folder; otherwise platformdirs' per-user folders), not settings fields, so a process that
must start fast (a scripting verb) can find them without importing pydantic (`config.py`, which
re-exports these names, imports it).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "lumina"


def _home() -> Path | None:
    home = os.environ.get("LUMINA_HOME")
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    home = _home()
    if home:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home()
    if home:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    home = _home()
    if home:
        return home / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) readable by this user only; an existing one is kept as is."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)


def ensure_private_file(path: Path) -> None:
    """Create an empty `path` with mode 0600 unless it exists (SQLite gives its -wal/-shm the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def ensure_dirs() -> None:
    """The data, config and log folders, made private (readable by this user only)."""
    for folder in (data_dir(), config_dir(), log_dir()):
        ensure_private_dir(folder)


def cache_dir() -> Path:
    """Disposable caches (a parsed hyphenation table, the settings check): losing them only costs
    time."""
    home = _home()
    if home:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    explicit = os.environ.get("LUMINA_CONFIG_FILE")
    return Path(explicit).expanduser() if explicit else config_dir() / "config.toml"
