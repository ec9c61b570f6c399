"""`lumina serve`: the REST API, provider webhooks and tracking, over the same service layer.

The layer sits above services and below the CLI (import-linter): it translates HTTP into service
calls and service results and errors into HTTP, and never touches SQL, providers or the queue itself.
Handlers that call services are plain `def`s, which FastAPI runs in its threadpool, so a slow
SQLite write never blocks the event loop.
"""
