"""The local store: SQLModel tables, the SQLite engine, migrations and immutability guards.

The names below load on first use (PEP 562), so that importing a light module of this package
(`store.sqlite_file`, `store.errors`) does not import SQLAlchemy: the CLI's read verbs start
without it (issue 9 point 22).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lumina_tui.store.db import Database, close_all, open_database
    from lumina_tui.store.models import new_id, utcnow

_LAZY = {
    "Database": "lumina_tui.store.db",
    "close_all": "lumina_tui.store.db",
    "open_database": "lumina_tui.store.db",
    "new_id": "lumina_tui.store.models",
    "utcnow": "lumina_tui.store.models",
}

__all__ = ["Database", "close_all", "new_id", "open_database", "utcnow"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
