"""The store refuses a file it must not write to before writing anything, and keeps its files private."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from lumina_tui.config import load_settings
from lumina_tui.store import close_all, open_database
from lumina_tui.store.errors import StoreError

# SQLite files and sqlite_master; the PostgreSQL store has its own in test_postgres_store.py.
pytestmark = pytest.mark.sqlite_only


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _made_database(path: Path) -> None:
    open_database(f"sqlite:///{path}")
    close_all()


def _refused(path: Path, code: str) -> StoreError:
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        open_database(f"sqlite:///{path}")
    assert caught.value.code == code
    assert path.read_bytes() == before  # not even the WAL header flag was written
    assert not path.with_name(path.name + "-wal").exists()
    return caught.value


def test_a_database_from_a_newer_lumina_is_refused_before_any_write(tmp_path: Path) -> None:
    path = tmp_path / "lumina.db"
    _made_database(path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (500, 'future')")
    conn.close()
    error = _refused(path, "database_newer")
    assert "500" in error.message and "Upgrade Lumina" in error.message


def test_lumina_tables_without_schema_version_are_an_error_that_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "lumina.db"
    _made_database(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE schema_version")
    conn.close()
    _refused(path, "database_unversioned")
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "schema_version" not in tables  # it used to be created, then the migration failed half-way


def test_a_sqlite_file_that_is_not_luminas_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE deals (id INTEGER PRIMARY KEY, amount REAL)")
    conn.close()
    error = _refused(path, "database_not_lumina")
    assert "deals" in error.message


def test_an_empty_file_is_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    assert open_database(f"sqlite:///{path}").migrate() >= 1


def test_database_queue_and_data_folder_are_private(lumina_home: Path) -> None:
    from lumina_tui.queue import build_huey
    from lumina_tui.services.runtime import open_runtime

    old = os.umask(0o022)  # a typical umask would give 0644 files and 0755 folders
    try:
        rt = open_runtime(load_settings())
        build_huey(rt.settings)
    finally:
        os.umask(old)
    data = rt.settings.data_dir
    assert _mode(data) == 0o700
    assert _mode(rt.settings.db_path) == 0o600
    assert _mode(rt.settings.queue_path) == 0o600
    for sidecar in data.glob("*.db-*"):  # WAL and shared-memory files take the database's mode
        assert _mode(sidecar) == 0o600, sidecar


def test_a_locked_store_is_a_lumina_error_the_composer_catches(tmp_path: Path) -> None:
    """Services raise the store's failures as members of the one family the TUI and CLI catch."""
    from lumina_tui.services import drafts
    from lumina_tui.services.actors import local_actor
    from lumina_tui.services.errors import LuminaError
    from lumina_tui.store import new_id

    path = tmp_path / "lumina.db"
    db = open_database(f"sqlite:///{path}", busy_timeout_seconds=0.1)
    actor = local_actor(db)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LuminaError) as caught:
            drafts.save(db, actor, new_id(), 1, subject="Private subject", body="Private body")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert isinstance(caught.value, StoreError)
    error = caught.value
    assert (error.code, error.field, error.exit_code) == ("database_locked", "database", 1)
    assert "Private" not in caught.value.message and "INSERT" not in caught.value.message
