"""The local store: SQLModel tables, the SQLite engine, migrations and immutability guards."""

from lumina_tui.store.db import Database, close_all, open_database
from lumina_tui.store.models import new_id, utcnow

__all__ = ["Database", "close_all", "new_id", "open_database", "utcnow"]
