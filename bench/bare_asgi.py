"""The baseline of bench_api.py: a bare ASGI endpoint that does one SQLite INSERT per request.

No framework, no validation, no auth: read the body, INSERT one row (in a worker thread, as the real
API runs its handlers, on a connection per thread with the store's own pragmas: WAL, synchronous
NORMAL, busy timeout), answer 201 with a tiny JSON body. Whatever `lumina serve` costs beyond this
is the price of FastAPI, the bearer token, validation and the service layer.

Run: python bench/bare_asgi.py DB_PATH PORT
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import uuid

import anyio
import uvicorn

_local = threading.local()
DB_PATH = ""


def _connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, isolation_level=None, check_same_thread=False, timeout=30)
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
    global DB_PATH
    DB_PATH, port = sys.argv[1], int(sys.argv[2])
    conn = sqlite3.connect(DB_PATH)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS bare_rows (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    conn.commit()
    conn.close()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", server_header=False)


if __name__ == "__main__":
    main()
