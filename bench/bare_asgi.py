"""The baseline of bench_api.py: a bare ASGI endpoint that does one SQLite INSERT per request.

No framework, no validation, no auth: read the body, INSERT one row (in a worker thread, as the real
API runs its handlers, on a connection per thread with the store's own pragmas: WAL, synchronous
NORMAL, busy timeout), answer 201 with a tiny JSON body. Whatever `lumina serve` costs beyond this
is the price of FastAPI, the bearer token, validation and the service layer.

It is served exactly as `lumina serve` is (uvicorn, the same keep-alive, the same number of worker
processes), so the ratio compares the apps, not two ways of serving them. The database path comes
from BARE_ASGI_DB (uvicorn's worker processes import this module afresh).

Run: BARE_ASGI_DB=path python bench/bare_asgi.py PORT [WORKERS]
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import uuid
from pathlib import Path

import anyio
import uvicorn

_local = threading.local()


def _connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(
            os.environ["BARE_ASGI_DB"], isolation_level=None, check_same_thread=False, timeout=30
        )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 30000")
        _local.conn = conn
    return conn


def _insert(body: bytes) -> str:
    row_id = str(uuid.uuid4())
    conn = _connection()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO bare_rows (id, body) VALUES (?, ?)", (row_id, body.decode("utf-8", "replace")))
    conn.execute("COMMIT")
    return row_id


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/healthz":
        payload = b'{"ok":true}'
        status = 200
    else:
        row_id = await anyio.to_thread.run_sync(_insert, body)
        payload = f'{{"id":"{row_id}"}}'.encode()
        status = 201
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    conn = sqlite3.connect(os.environ["BARE_ASGI_DB"])
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS bare_rows (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    conn.commit()
    conn.close()
    # The same uvicorn settings as `lumina serve` (lumina_tui/cli/serve_commands.py).
    uvicorn.run(
        "bare_asgi:app",
        app_dir=str(Path(__file__).resolve().parent),
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        server_header=False,
        timeout_keep_alive=30,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
