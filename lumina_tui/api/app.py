"""The ASGI app `lumina serve` runs: routes, JSON errors, body limits, the OpenAPI document.

`create_app()` is a factory (uvicorn's `--factory`), so several server processes each build their
own from the same settings and keyring. Bodies over `api.max_body_bytes` (webhooks:
`api.webhook_max_body_bytes`) get 413 before they are read whole (api/limits.py), a chunked body
without Content-Length as well.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from lumina_tui import __version__
from lumina_tui.api import errors
from lumina_tui.api.deps import ServerContext
from lumina_tui.api.limits import BodyLimit
from lumina_tui.config import Settings, load_settings

if TYPE_CHECKING:
    from lumina_tui.services.runtime import Database


def server_context(settings: Settings, db: Database | None = None) -> ServerContext:
    """Settings, the migrated store and the keys, read once for the process."""
    from lumina_tui.services import team, tracking
    from lumina_tui.services.runtime import open_store

    if db is None:
        db = open_store(settings)
    return ServerContext(
        settings=settings, db=db, jwt_key=team.signing_key(), tracking_key=tracking.tracking_key()
    )


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    """The API over the services of the store `settings` name (a factory: one per process)."""
    from lumina_tui.api.hooks import tracking_router, webhook_router
    from lumina_tui.api.routes import auth_router, router

    settings = settings or load_settings()
    context = server_context(settings, db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        import anyio

        # FastAPI runs plain-def handlers through anyio's default limiter: size it once per process.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api.threads
        context.ai_limiter.total_tokens = settings.api.ai_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Lumina",
        version=__version__,
        summary="Drafts, AI suggestions, sending, prospects, events and stats of a Lumina workspace.",
    )
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.api.max_body_bytes,
        webhook_max_bytes=settings.api.webhook_max_body_bytes,
    )
    app.state.lumina = context
    errors.install(app)
    app.include_router(auth_router)
    app.include_router(router)
    app.include_router(webhook_router())
    app.include_router(tracking_router)

    @app.get("/healthz", tags=["server"], summary="The server is up (no token needed)")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "version": __version__}

    return app
