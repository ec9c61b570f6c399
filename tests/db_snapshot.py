"""Every row of every table of a Lumina database file, read with plain sqlite3.

Tests compare two snapshots to prove that an operation changed nothing (a rejected save, a second
`lumina demo`) or changed only what it should.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

Snapshot = dict[str, list[tuple[object, ...]]]


def snapshot(path: Path, *, skip: tuple[str, ...] = ("schema_version",)) -> Snapshot:
    conn = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if row[0] not in skip and not row[0].startswith("sqlite_")
        ]
        return {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr) for table in tables
        }
    finally:
        conn.close()


def count(path: Path, table: str, where: str = "1") -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f'SELECT count(*) FROM "{table}" WHERE {where}').fetchone()[0])
    finally:
        conn.close()
